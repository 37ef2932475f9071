import { toast } from 'sonner';
import type { ItemView } from '../api/types';
import { failureText, formatScore, pluralize } from './format';

/** The toast for an answer that just finished: "Q1 graded: 1.5 / 2" or "Q1 failed: …". */
export function finishedMessage(item: ItemView): string {
  return item.state === 'done'
    ? `${item.question_label} graded: ${formatScore(item)}`
    : `${item.question_label} failed: ${failureText(item)}`;
}

/** Up to this many answers finishing together get a toast each; more get one summary. */
export const SINGLE_TOAST_LIMIT = 2;
/** Answers finishing within this window are announced together. */
export const COALESCE_MS = 600;

export type Toasts = {
  success: (message: string, options: { id: string }) => void;
  error: (message: string, options: { id: string; duration?: number }) => void;
};

export type Toast = { kind: 'success' | 'error'; message: string; id: string };

/** The toasts for a batch of answers that finished together ("12 answers graded"). */
export function batchToasts(items: ItemView[]): Toast[] {
  // One entry per answer (the last state wins).
  const last = new Map<number, ItemView>();
  for (const i of items) last.set(i.item_id, i);
  const all = [...last.values()];
  const done = all.filter((i) => i.state === 'done');
  const failed = all.filter((i) => i.state === 'failed');
  const out: Toast[] = [];
  if (done.length > SINGLE_TOAST_LIMIT) {
    out.push({ kind: 'success', message: `${pluralize(done.length, 'answer')} graded`, id: `graded-${done[0]!.item_id}-${done.length}` });
  } else {
    for (const i of done) out.push({ kind: 'success', message: finishedMessage(i), id: `item-${i.item_id}-done` });
  }
  if (failed.length > SINGLE_TOAST_LIMIT) {
    out.push({
      kind: 'error',
      message: `${pluralize(failed.length, 'answer')} could not be graded. Open a scan to see why and retry.`,
      id: `failed-${failed[0]!.item_id}-${failed.length}`,
    });
  } else {
    for (const i of failed) out.push({ kind: 'error', message: finishedMessage(i), id: `item-${i.item_id}-failed` });
  }
  return out;
}

/**
 * Collects finished answers for `delayMs` and shows one toast per answer, or one summary when
 * many finish at once. Returns the per-item callback and a `dispose` that drops the pending batch.
 */
export function createFinishedAnnouncer(
  toasts: Toasts = toast,
  delayMs = COALESCE_MS,
): { announce: (item: ItemView) => void; dispose: () => void } {
  let pending: ItemView[] = [];
  let timer: ReturnType<typeof setTimeout> | null = null;
  const flush = () => {
    timer = null;
    const batch = pending;
    pending = [];
    for (const t of batchToasts(batch)) {
      if (t.kind === 'success') toasts.success(t.message, { id: t.id });
      else toasts.error(t.message, { id: t.id, duration: 8000 });
    }
  };
  return {
    announce: (item) => {
      if (item.state !== 'done' && item.state !== 'failed') return;
      pending.push(item);
      timer ??= setTimeout(flush, delayMs);
    },
    dispose: () => {
      if (timer !== null) clearTimeout(timer);
      timer = null;
      pending = [];
    },
  };
}

const shared = createFinishedAnnouncer();

/** Announces one finished answer; bursts are coalesced into one toast. */
export function announceFinished(item: ItemView): void {
  shared.announce(item);
}
