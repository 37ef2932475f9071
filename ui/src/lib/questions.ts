import type { QuestionInput } from '../api/types';

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

/** Parses and checks the "questions" JSON of the New exam form; errors are sentences. */
export function parseQuestions(text: string): ParseResult {
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
    const n = i + 1;
    if (typeof q !== 'object' || q === null || Array.isArray(q)) {
      return { ok: false, error: `Question ${n} must be an object with a label, prompt and max_points.` };
    }
    const o = q as Record<string, unknown>;
    const label = str(o.label)?.trim() ?? '';
    if (label === '') return { ok: false, error: `Question ${n} needs a label, such as "Q${n}".` };
    if (seen.has(label)) return { ok: false, error: `Two questions are labelled "${label}".` };
    seen.add(label);
    const prompt = str(o.prompt) ?? '';
    const max = o.max_points;
    if (typeof max !== 'number' || !Number.isFinite(max) || max <= 0) {
      return { ok: false, error: `Question ${label} needs max_points, a number above 0.` };
    }
    for (const key of ['prompt', 'rubric', 'reference_answer'] as const) {
      if (o[key] !== undefined && typeof o[key] !== 'string') {
        return { ok: false, error: `In question ${label}, ${key} must be text.` };
      }
    }
    questions.push({
      label,
      prompt,
      max_points: max,
      rubric: str(o.rubric) ?? '',
      reference_answer: str(o.reference_answer) ?? '',
    });
  }
  return { ok: true, questions };
}
