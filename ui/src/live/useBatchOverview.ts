import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useEffect, useRef } from 'react';
import { batchOverview } from '../api';
import type { BatchOverview } from '../api/types';
import { batchFinishedMessage, newlyFinished } from '../lib/batches';

/** How often the overview is looked at again when nothing told the window (a batch polled
 * by another process). */
export const BATCH_REFRESH_MS = 15_000;

/**
 * The batch overview, fetched again whenever the live view refetched (`seq` changes on a
 * `changed` event, which the core sends when a batch changes) and every 15 s. Shared by
 * every caller through the query cache.
 */
export function useBatchOverview(seq: number, load: () => Promise<BatchOverview> = batchOverview) {
  return useQuery({
    queryKey: ['batch-overview', seq],
    queryFn: load,
    refetchInterval: BATCH_REFRESH_MS,
    placeholderData: keepPreviousData,
    retry: false,
  });
}

/**
 * Calls `announce` once for each batch whose results came in while the window watched
 * (not for those already in when it opened).
 */
export function useBatchFinished(
  overview: BatchOverview | undefined,
  announce: (title: string, body: string) => void,
): void {
  const seen = useRef<BatchOverview['batches'] | null>(null);
  useEffect(() => {
    if (overview === undefined) return;
    for (const b of newlyFinished(seen.current, overview.batches)) {
      const { title, body } = batchFinishedMessage(b);
      announce(title, body);
    }
    seen.current = overview.batches;
  }, [overview, announce]);
}
