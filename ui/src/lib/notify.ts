import { toast } from 'sonner';
import type { ItemView } from '../api/types';
import { failureText, formatScore } from './format';

/** The toast for an answer that just finished: "Q1 graded: 1.5 / 2" or "Q1 failed: …". */
export function finishedMessage(item: ItemView): string {
  return item.state === 'done'
    ? `${item.question_label} graded: ${formatScore(item)}`
    : `${item.question_label} failed: ${failureText(item)}`;
}

export function announceFinished(item: ItemView): void {
  const id = `item-${item.item_id}-${item.state}`;
  if (item.state === 'done') toast.success(finishedMessage(item), { id });
  else if (item.state === 'failed') toast.error(finishedMessage(item), { id, duration: 8000 });
}
