import { describe, expect, it } from 'vitest';
import { parseQuestions } from './questions';
import { formatRubric, parseRubric, rubricTotal } from './rubric';

describe('rubric lines', () => {
  it('round-trips lines with points through the stored text', () => {
    const lines = [
      { text: 'F = ma (or in words)', points: 1 },
      { text: 'names force, mass and acceleration', points: 1.5 },
    ];
    const text = formatRubric(lines);
    expect(text).toBe('- F = ma (or in words) (1 pt)\n- names force, mass and acceleration (1.5 pts)');
    expect(parseRubric(text)).toEqual(lines);
    expect(rubricTotal(lines)).toBe(2.5);
  });

  it('keeps free text as lines without points', () => {
    expect(parseRubric('Full marks for F = ma.\n\n- units (1 pt)')).toEqual([
      { text: 'Full marks for F = ma.', points: null },
      { text: 'units', points: 1 },
    ]);
    expect(formatRubric([{ text: '  ', points: 2 }, { text: 'any', points: null }])).toBe('- any');
  });
});

describe('questions file', () => {
  it('accepts rubric lines with points and fills missing labels from the position', () => {
    const res = parseQuestions(
      '[{"prompt":"p","max_points":2,"rubric":[{"text":"F = ma","points":1},{"text":"units","points":1}]},{"label":"B","prompt":"q","max_points":1}]',
      3,
    );
    expect(res).toEqual({
      ok: true,
      questions: [
        { label: 'Q3', prompt: 'p', max_points: 2, rubric: '- F = ma (1 pt)\n- units (1 pt)', reference_answer: '' },
        { label: 'B', prompt: 'q', max_points: 1, rubric: '', reference_answer: '' },
      ],
    });
  });

  it('explains a bad rubric line', () => {
    expect(parseQuestions('[{"label":"Q1","max_points":1,"rubric":[{"text":"x"}]}]')).toEqual({
      ok: false,
      error: 'In question Q1, each rubric line needs a text and its points (a number).',
    });
    expect(parseQuestions('[{"label":"q1","max_points":1},{"label":"Q1","max_points":1}]')).toMatchObject({ ok: false });
  });
});
