import type { Question, QuestionInput, RubricItemInput, Scoring } from '../api/types';

/**
 * A rubric item as the editor holds it: text and points as typed, and the stored item's id
 * (kept so an edit changes that item, and every answer that has it, rather than adding one).
 */
export type DraftLine = { id?: number; text: string; points: string };
export type QuestionDraft = {
  label: string;
  prompt: string;
  maxPoints: string;
  scoring: Scoring;
  /** The rubric items the core scores. */
  rubric: DraftLine[];
  /** Free guidance for the grader beside the items. */
  notes: string;
  referenceAnswer: string;
};

const EMPTY_LINE: DraftLine = { text: '', points: '' };

export function draftFrom(q: Question | null, nextLabel: string): QuestionDraft {
  if (q === null) {
    return {
      label: nextLabel,
      prompt: '',
      maxPoints: '1',
      scoring: 'positive',
      rubric: [{ ...EMPTY_LINE }],
      notes: '',
      referenceAnswer: '',
    };
  }
  const lines = q.items.map((i) => ({ id: i.id, text: i.text, points: String(i.points) }));
  return {
    label: q.label,
    prompt: q.prompt,
    maxPoints: String(q.max_points),
    scoring: q.scoring,
    rubric: lines.length > 0 ? lines : [{ ...EMPTY_LINE }],
    notes: q.rubric,
    referenceAnswer: q.reference_answer,
  };
}

/** The next free "Q<n>" label of an exam. */
export function nextLabel(questions: Pick<Question, 'label'>[]): string {
  const taken = new Set(questions.map((q) => q.label.toLowerCase()));
  let n = questions.length + 1;
  while (taken.has(`q${n}`)) n += 1;
  return `Q${n}`;
}

function number(text: string): number | null {
  if (text.trim() === '') return null;
  const n = Number(text.replace(',', '.').replace('−', '-'));
  return Number.isFinite(n) ? n : NaN;
}

/**
 * What the items add up to: with positive scoring the points awarded by the positive items,
 * with negative scoring the points the negative items can deduct from full marks.
 */
export function itemsTotal(scoring: Scoring, items: Pick<RubricItemInput, 'points'>[]): number {
  return items.reduce((sum, i) => sum + (scoring === 'positive' ? Math.max(0, i.points) : Math.max(0, -i.points)), 0);
}

export type DraftResult = { ok: true; input: QuestionInput; rubricTotal: number } | { ok: false; error: string };

/** Checks a draft and turns it into what the core stores; errors are sentences. */
export function draftToInput(d: QuestionDraft): DraftResult {
  const label = d.label.trim();
  if (label === '') return { ok: false, error: 'Give the question a label, such as “Q1”.' };
  const max = number(d.maxPoints);
  if (max === null || Number.isNaN(max) || max <= 0) {
    return { ok: false, error: `The points of ${label} must be a number above 0.` };
  }
  if (d.prompt.trim() === '') return { ok: false, error: `Write the question ${label} asks.` };
  const items: RubricItemInput[] = [];
  for (const [k, l] of d.rubric.entries()) {
    if (l.text.trim() === '' && l.points.trim() === '') continue;
    const pts = number(l.points);
    if (pts === null || Number.isNaN(pts) || Math.abs(pts) > max) {
      return {
        ok: false,
        error: `Rubric item ${k + 1} of ${label}: its points must be a number from −${max} to ${max} (negative to deduct).`,
      };
    }
    if (l.text.trim() === '') return { ok: false, error: `Rubric item ${k + 1} of ${label} has points but no text.` };
    items.push(l.id === undefined ? { text: l.text.trim(), points: pts } : { id: l.id, text: l.text.trim(), points: pts });
  }
  return {
    ok: true,
    rubricTotal: itemsTotal(d.scoring, items),
    input: {
      label,
      prompt: d.prompt,
      max_points: max,
      rubric: d.notes,
      reference_answer: d.referenceAnswer,
      scoring: d.scoring,
      items,
    },
  };
}
