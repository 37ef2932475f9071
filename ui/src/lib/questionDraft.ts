import type { Question, QuestionInput } from '../api/types';
import { formatRubric, parseRubric } from './rubric';

/** A question as the editor holds it: text fields as typed, rubric as lines. */
export type DraftLine = { text: string; points: string };
export type QuestionDraft = {
  label: string;
  prompt: string;
  maxPoints: string;
  rubric: DraftLine[];
  referenceAnswer: string;
};

export function draftFrom(q: Question | null, nextLabel: string): QuestionDraft {
  if (q === null) {
    return { label: nextLabel, prompt: '', maxPoints: '1', rubric: [{ text: '', points: '' }], referenceAnswer: '' };
  }
  const lines = parseRubric(q.rubric).map((l) => ({ text: l.text, points: l.points === null ? '' : String(l.points) }));
  return {
    label: q.label,
    prompt: q.prompt,
    maxPoints: String(q.max_points),
    rubric: lines.length > 0 ? lines : [{ text: '', points: '' }],
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
  const n = Number(text.replace(',', '.'));
  return Number.isFinite(n) ? n : NaN;
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
  const lines = [];
  let total = 0;
  for (const [k, l] of d.rubric.entries()) {
    if (l.text.trim() === '' && l.points.trim() === '') continue;
    const pts = number(l.points);
    if (Number.isNaN(pts) || (pts !== null && pts < 0)) {
      return { ok: false, error: `Rubric line ${k + 1} of ${label}: the points must be a number (or left empty).` };
    }
    if (l.text.trim() === '') return { ok: false, error: `Rubric line ${k + 1} of ${label} has points but no text.` };
    total += pts ?? 0;
    lines.push({ text: l.text, points: pts });
  }
  return {
    ok: true,
    rubricTotal: total,
    input: {
      label,
      prompt: d.prompt,
      max_points: max,
      rubric: formatRubric(lines),
      reference_answer: d.referenceAnswer,
    },
  };
}
