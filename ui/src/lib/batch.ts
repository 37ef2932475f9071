import type { ItemState, ItemView } from '../api/types';
import { pluralize } from './format';

const ACTIVE: ReadonlySet<ItemState> = new Set(['queued', 'grading', 'retrying']);

/**
 * A batch is every answer that was queued, grading or retrying since the queue was last empty.
 * It finishes when none of them (nor any answer added meanwhile) is left active.
 */
export type BatchState = { members: ReadonlySet<number> };
export type BatchSummary = { done: number; failed: number; cancelled: number };

export const EMPTY_BATCH: BatchState = { members: new Set() };

/**
 * Folds the current answers into the batch. Returns the new state and, when the batch has just
 * finished (all its answers reached done, failed or cancelled), what became of them. Pure:
 * called with every new snapshot of the live state.
 */
export function trackBatch(state: BatchState, items: readonly ItemView[]): { state: BatchState; finished: BatchSummary | null } {
  const active = items.filter((i) => ACTIVE.has(i.state));
  if (active.length > 0) {
    const members = new Set(state.members);
    for (const i of active) members.add(i.item_id);
    return { state: members.size === state.members.size ? state : { members }, finished: null };
  }
  if (state.members.size === 0) return { state, finished: null };
  const summary: BatchSummary = { done: 0, failed: 0, cancelled: 0 };
  for (const i of items) {
    if (!state.members.has(i.item_id)) continue;
    if (i.state === 'done') summary.done += 1;
    else if (i.state === 'failed') summary.failed += 1;
    else if (i.state === 'cancelled') summary.cancelled += 1;
  }
  return { state: EMPTY_BATCH, finished: summary };
}

/** The notification's title and body, in the teacher's words. */
export function batchMessage(s: BatchSummary): { title: string; body: string } {
  const parts = [`${pluralize(s.done, 'answer')} graded`];
  if (s.failed > 0) parts.push(`${s.failed} failed (open the scans to retry)`);
  if (s.cancelled > 0) parts.push(`${s.cancelled} cancelled`);
  return { title: 'Grading finished', body: `${parts.join(', ')}.` };
}
