import type { QuestionInput, RubricItemInput, Scoring } from '../api/types';

export const QUESTIONS_EXAMPLE = `[
  {
    "label": "Q1",
    "prompt": "State Newton's second law.",
    "max_points": 2,
    "rubric": "1 point for F = ma, 1 point for naming force, mass and acceleration.",
    "reference_answer": "The net force on a body equals its mass times its acceleration (F = ma)."
  }
]`;

export type ParseResult = { ok: true; questions: QuestionInput[] } | { ok: false; error: string };

function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

/**
 * The questions-file format (New exam form, "Import questions", `gradedesk exam create`): a
 * JSON list of `{label?, prompt, max_points, rubric?, reference_answer?, scoring?}`, where
 * `rubric` is text or a list of `{text, points}` items (negative points deduct). A missing label becomes "Q<n>" (its place in the
 * file, counted after `firstNumber - 1`).
 */
export const QUESTIONS_FORMAT_HELP =
  'A JSON list of questions: {"label": "Q1", "prompt": "…", "max_points": 2, "rubric": [{"text": "…", "points": 1}], "reference_answer": "…", "scoring": "positive"}. Rubric items with negative points deduct; the rubric may also be plain text; a missing label becomes Q1, Q2, …';

type Rubric = { text: string; items: RubricItemInput[] };

function rubricFrom(v: unknown, label: string): ({ ok: true } & Rubric) | { ok: false; error: string } {
  if (v === undefined || v === null) return { ok: true, text: '', items: [] };
  if (typeof v === 'string') return { ok: true, text: v, items: [] };
  if (!Array.isArray(v)) return { ok: false, error: `In question ${label}, the rubric must be text or a list of lines.` };
  const items: RubricItemInput[] = [];
  for (const line of v as unknown[]) {
    const o = typeof line === 'object' && line !== null ? (line as Record<string, unknown>) : {};
    const points = o.points;
    if (typeof o.text !== 'string' || o.text.trim() === '' || typeof points !== 'number' || !Number.isFinite(points)) {
      return { ok: false, error: `In question ${label}, each rubric line needs a text and its points (a number).` };
    }
    items.push({ text: o.text.trim(), points });
  }
  return { ok: true, text: '', items };
}

function scoringFrom(v: unknown): Scoring | null {
  if (v === undefined || v === null) return 'positive';
  return v === 'positive' || v === 'negative' ? v : null;
}

/** Parses and checks a questions file (see `QUESTIONS_FORMAT_HELP`); errors are sentences. */
export function parseQuestions(text: string, firstNumber = 1): ParseResult {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, error: 'The questions are not valid JSON. Check commas, quotes and brackets.' };
  }
  if (!Array.isArray(raw) || raw.length === 0) {
    return { ok: false, error: 'The questions must be a JSON list with at least one question.' };
  }
  const questions: QuestionInput[] = [];
  const seen = new Set<string>();
  for (const [i, q] of (raw as unknown[]).entries()) {
    const n = i + firstNumber;
    if (typeof q !== 'object' || q === null || Array.isArray(q)) {
      return { ok: false, error: `Question ${n} must be an object with a label, prompt and max_points.` };
    }
    const o = q as Record<string, unknown>;
    if (o.label !== undefined && typeof o.label !== 'string') {
      return { ok: false, error: `Question ${n}'s label must be text, such as "Q${n}".` };
    }
    const label = str(o.label)?.trim() || `Q${n}`;
    if (seen.has(label.toLowerCase())) return { ok: false, error: `Two questions are labelled "${label}".` };
    seen.add(label.toLowerCase());
    const prompt = str(o.prompt) ?? '';
    const max = o.max_points;
    if (typeof max !== 'number' || !Number.isFinite(max) || max <= 0) {
      return { ok: false, error: `Question ${label} needs max_points, a number above 0.` };
    }
    const rubric = rubricFrom(o.rubric, label);
    if (!rubric.ok) return rubric;
    for (const key of ['prompt', 'reference_answer'] as const) {
      if (o[key] !== undefined && typeof o[key] !== 'string') {
        return { ok: false, error: `In question ${label}, ${key} must be text.` };
      }
    }
    const scoring = scoringFrom(o.scoring);
    if (scoring === null) {
      return { ok: false, error: `In question ${label}, scoring must be "positive" or "negative".` };
    }
    questions.push({
      label,
      prompt,
      max_points: max,
      rubric: rubric.text,
      reference_answer: str(o.reference_answer) ?? '',
      scoring,
      items: rubric.items,
    });
  }
  return { ok: true, questions };
}
