import { createContext, useContext } from 'react';
import type { Live } from './useLive';

export const LiveContext = createContext<Live | null>(null);

export function useLiveData(): Live {
  const live = useContext(LiveContext);
  if (live === null) throw new Error('useLiveData must be used inside <LiveContext.Provider>');
  return live;
}
