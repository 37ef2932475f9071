import type { Question, ReviewRouting, ReviewRow, Route } from '../api/types';

/** The items an answer has now: the teacher's, when they decided by items, else the AI's. */
export function chosenItems(row: Pick<ReviewRow, 'decision' | 'teacher_items' | 'applied'>): number[] {
  if (row.decision === 'items' && row.teacher_items !== null) return row.teacher_items;
  return row.applied.map((a) => a.item_id);
}

/** The chosen items with `itemId` switched on or off, in the rubric's order. */
export function toggleItem(question: Pick<Question, 'items'>, chosen: number[], itemId: number): number[] {
  const next = new Set(chosen);
  if (next.has(itemId)) next.delete(itemId);
  else next.add(itemId);
  return question.items.map((i) => i.id).filter((id) => next.has(id));
}

/** The rubric item a number key ("1" … "9") stands for, if the question has that many. */
export function itemForKey(question: Pick<Question, 'items'> | undefined, key: string): number | null {
  if (question === undefined || !/^[1-9]$/.test(key)) return null;
  return question.items[Number(key) - 1]?.id ?? null;
}

/** "+2", "−1.5": an item's points as the review card shows them. */
export function signedPoints(points: number): string {
  const text = String(Math.abs(points));
  return points < 0 ? `−${text}` : `+${text}`;
}

export const ROUTE_LABEL: Record<Route, string> = {
  flagged: 'Flagged',
  waiting: 'Waiting for you',
  auto_accepted: 'Accepted automatically',
  teacher: 'Reviewed',
};

function percent(share: number): string {
  return `${Math.round(share * 100)}%`;
}

/**
 * The sentence that says how a question's answers are routed and why: auto-accept off, the
 * agreement not measured on enough answers yet, below its target, or accepting.
 */
export function routingSentence(r: ReviewRouting): string {
  const p = r.policy;
  const measured =
    r.reviewed === 0
      ? 'no answers reviewed yet'
      : `the AI gave your score on ${r.exact} of ${r.reviewed} reviewed (${percent(r.exact / r.reviewed)})`;
  if (!p.auto_accept) return `Auto-accept is off: every answer waits for you (${measured}).`;
  if (r.reviewed < r.min_reviewed) {
    return `Nothing is accepted automatically yet: agreement counts after ${r.min_reviewed} reviewed answers (${measured}).`;
  }
  if (r.exact / r.reviewed < p.agreement_target) {
    return `Nothing is accepted automatically: ${measured}, below the ${percent(p.agreement_target)} target.`;
  }
  return `Answers with confidence of ${percent(p.confidence_threshold)} or more are accepted automatically: ${measured}, target ${percent(p.agreement_target)}.`;
}
