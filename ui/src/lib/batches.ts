import type { BatchSummary } from '../api/types';
import { pluralize } from './format';

/** "$0.0123", or a dash when the model has no price. */
export function formatCost(usd: number | null): string {
  if (usd === null || !Number.isFinite(usd)) return '–';
  return `$${usd < 1 ? usd.toFixed(4) : usd.toFixed(2)}`;
}

/** How long ago a batch was sent: "just now", "12 min", "3 h 5 min", "2 d 4 h". */
export function batchAge(createdAtMs: number, nowMs: number): string {
  const minutes = Math.max(0, Math.floor((nowMs - createdAtMs) / 60000));
  if (minutes < 1) return 'just now';
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

const STATE_WORDS: Record<string, string> = {
  submitting: 'Sending',
  pending: 'Waiting at Gemini',
  running: 'Running',
  succeeded: 'Done',
  failed: 'Failed',
  cancelled: 'Cancelled',
  expired: 'Expired',
  abandoned: 'Not sent',
};

/** The batch's state in the teacher's words. */
export function batchStateLabel(b: Pick<BatchSummary, 'state' | 'results_stored'>): string {
  const word = STATE_WORDS[b.state] ?? b.state;
  return b.results_stored || b.state === 'pending' || b.state === 'running' || b.state === 'submitting'
    ? word
    : `${word}, storing results`;
}

/** Whether a batch may still be cancelled. */
export function isOpen(b: Pick<BatchSummary, 'results_stored' | 'ended_at'>): boolean {
  return !b.results_stored && b.ended_at === null;
}

/**
 * The batches whose results came in between two looks: stored now, not stored (or not
 * known) before. The first look announces nothing (`previous` null).
 */
export function newlyFinished(previous: readonly BatchSummary[] | null, next: readonly BatchSummary[]): BatchSummary[] {
  if (previous === null) return [];
  const before = new Map(previous.map((b) => [b.batch, b.results_stored]));
  return next.filter((b) => b.results_stored && b.batch !== '' && before.get(b.batch) === false);
}

/** The toast and desktop notification for a batch whose results are in. */
export function batchFinishedMessage(b: BatchSummary): { title: string; body: string } {
  const parts = [`${pluralize(b.succeeded, 'answer')} graded`];
  if (b.failed > 0) parts.push(`${b.failed} back to waiting or refused`);
  const cost = b.cost_actual !== null ? ` for ${formatCost(b.cost_actual)}` : '';
  return { title: 'Batch results are in', body: `${parts.join(', ')}${cost}.` };
}
