import type { ItemView } from '../api/types';
import { finishedItems, initialLiveState, liveReducer, type LiveAction, type LiveState } from './reducer';

/** A tiny external store around `liveReducer`, read with useSyncExternalStore. */
export class LiveStore {
  private state: LiveState = initialLiveState;
  private readonly listeners = new Set<() => void>();
  private onFinished: ((item: ItemView) => void) | null = null;

  readonly getState = (): LiveState => this.state;

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  };

  setFinishedHandler(handler: ((item: ItemView) => void) | null): void {
    this.onFinished = handler;
  }

  dispatch(action: LiveAction): void {
    const prev = this.state;
    const next = liveReducer(prev, action);
    if (next === prev) return;
    this.state = next;
    const finished = finishedItems(prev.snapshot, next.snapshot, action.type === 'event');
    for (const l of this.listeners) l();
    if (this.onFinished) for (const item of finished) this.onFinished(item);
  }
}
