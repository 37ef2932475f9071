import type { ItemState, ItemView } from '../api/types';

/** 1.5 → "1.5", 2 → "2", 0.3333 → "0.33". */
export function formatPoints(n: number): string {
  if (!Number.isFinite(n)) return '–';
  return String(Math.round(n * 100) / 100);
}

/** "1.5 / 2": the teacher's score when they overrode the AI's, else the AI's. */
export function formatScore(item: Pick<ItemView, 'score' | 'max_points'> & { teacher_score?: number | null }): string {
  const final = item.teacher_score ?? item.score;
  const score = final === null ? '–' : formatPoints(final);
  return `${score} / ${formatPoints(item.max_points)}`;
}

export const STATE_LABEL: Record<ItemState, string> = {
  queued: 'Queued',
  grading: 'Grading',
  retrying: 'Retrying',
  done: 'Done',
  failed: 'Failed',
  cancelled: 'Cancelled',
  waiting: 'Waiting for a batch',
  in_batch: 'In a batch',
};

export function failureText(item: Pick<ItemView, 'error'>): string {
  const e = item.error?.trim();
  return e ? e : 'Grading failed for an unknown reason.';
}

export function pluralize(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
