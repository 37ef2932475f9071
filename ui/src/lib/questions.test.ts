import { describe, expect, it } from 'vitest';
import { boxFromCorners, clampBox, isTooSmall, toFraction } from './geometry';
import { formatScore } from './format';
import { parseQuestions, QUESTIONS_EXAMPLE } from './questions';

describe('parseQuestions', () => {
  it('accepts the example and fills optional text fields', () => {
    const ok = parseQuestions(QUESTIONS_EXAMPLE);
    expect(ok.ok).toBe(true);
    expect(parseQuestions('[{"label":"Q1","max_points":2}]')).toEqual({
      ok: true,
      questions: [{ label: 'Q1', prompt: '', max_points: 2, rubric: '', reference_answer: '', scoring: 'positive', items: [] }],
    });
    expect(
      parseQuestions('[{"max_points":4,"scoring":"negative","rubric":[{"text":"sign error","points":-1},{"text":"units","points":-0.5}]}]'),
    ).toEqual({
      ok: true,
      questions: [
        {
          label: 'Q1',
          prompt: '',
          max_points: 4,
          rubric: '',
          reference_answer: '',
          scoring: 'negative',
          items: [
            { text: 'sign error', points: -1 },
            { text: 'units', points: -0.5 },
          ],
        },
      ],
    });
  });

  it('explains what is wrong in words', () => {
    expect(parseQuestions('[{')).toMatchObject({ ok: false, error: expect.stringContaining('not valid JSON') as unknown });
    expect(parseQuestions('[]')).toMatchObject({ ok: false });
    expect(parseQuestions('[{"label":3,"max_points":1}]')).toMatchObject({ ok: false, error: expect.stringContaining('label') as unknown });
    expect(parseQuestions('[{"label":"Q1","max_points":0}]')).toMatchObject({ ok: false });
    expect(parseQuestions('[{"label":"Q1","max_points":1,"scoring":"backwards"}]')).toMatchObject({
      ok: false,
      error: 'In question Q1, scoring must be "positive" or "negative".',
    });
    expect(parseQuestions('[{"label":"Q1","max_points":1},{"label":"Q1","max_points":1}]')).toMatchObject({
      ok: false,
      error: 'Two questions are labelled "Q1".',
    });
  });
});

describe('geometry', () => {
  const rect = { left: 100, top: 50, width: 400, height: 200 };
  it('maps client points to clamped fractions', () => {
    expect(toFraction({ x: 300, y: 150 }, rect)).toEqual({ x: 0.5, y: 0.5 });
    expect(toFraction({ x: 0, y: 999 }, rect)).toEqual({ x: 0, y: 1 });
  });
  it('normalizes drag direction and clamps to the page', () => {
    const b = boxFromCorners({ x: 0.6, y: 0.8 }, { x: 0.2, y: 0.3 });
    expect([b.x, b.y]).toEqual([0.2, 0.3]);
    expect(b.w).toBeCloseTo(0.4);
    expect(b.h).toBeCloseTo(0.5);
    const c = clampBox({ x: 0.9, y: -0.1, w: 0.5, h: 0.5 });
    expect([c.x, c.y, c.h]).toEqual([0.9, 0, 0.5]);
    expect(c.w).toBeCloseTo(0.1);
  });
  it('rejects zero-size boxes', () => {
    expect(isTooSmall({ x: 0.1, y: 0.1, w: 0, h: 0.2 }, rect)).toBe(true);
    expect(isTooSmall({ x: 0.1, y: 0.1, w: 0.005, h: 0.2 }, rect)).toBe(true);
    expect(isTooSmall({ x: 0.1, y: 0.1, w: 0.1, h: 0.1 }, rect)).toBe(false);
  });
  it('formats scores', () => {
    expect(formatScore({ score: 1.5, max_points: 2 })).toBe('1.5 / 2');
    // The crop page's list shows the teacher's score when they overrode the AI.
    expect(formatScore({ score: 1.5, max_points: 2, teacher_score: 0.5 })).toBe('0.5 / 2');
    expect(formatScore({ score: 1.5, max_points: 2, teacher_score: 0 })).toBe('0 / 2');
  });
});
