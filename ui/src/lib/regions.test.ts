import { describe, expect, it } from 'vitest';
import type { Question, Region } from '../api/types';
import { nextTarget, regionCaption, regionTargets, regradeWarning, targetKey } from './regions';

const q = (label: string, id: number): Question =>
  ({ id, label, prompt: '', max_points: 1, rubric: '', reference_answer: '', scoring: 'positive', items: [] });

const region = (id: number, kind: Region['kind'], label: string | null, questionId: number | null, position = 0): Region => ({
    region_id: id,
    page: 1,
    kind,
    question_id: questionId,
    question_label: label,
    position,
    bbox: { x: 0, y: 0, w: 0.1, h: 0.1 },
});

describe('the next region target', () => {
  const targets = regionTargets([q('Q1', 1), q('Q2', 2), q('Q3', 3)]);

  it('walks the questions, then the name and ID, one drag each', () => {
    expect(targets.map(targetKey)).toEqual(['answer:Q1', 'answer:Q2', 'answer:Q3', 'name', 'student_id']);
    const drawn: Region[] = [];
    let current = targets[0]!;
    const order: string[] = [];
    for (let k = 0; k < 5; k++) {
      order.push(targetKey(current));
      drawn.push(region(k, current.kind, current.questionLabel, current.kind === 'answer' ? k : null));
      current = nextTarget(targets, drawn, current);
    }
    expect(order).toEqual(['answer:Q1', 'answer:Q2', 'answer:Q3', 'name', 'student_id']);
    // Everything drawn: the target stays (a continued answer is drawn by choosing it).
    expect(targetKey(current)).toBe('student_id');
  });

  it('skips what already has a region and wraps around', () => {
    const drawn = [region(1, 'answer', 'Q1', 1), region(2, 'answer', 'Q3', 3)];
    expect(targetKey(nextTarget(targets, drawn, targets[2]!))).toBe('name');
    const all = [...drawn, region(3, 'name', null, null), region(4, 'student_id', null, null)];
    expect(targetKey(nextTarget(targets, all, targets[4]!))).toBe('answer:Q2');
  });
});

describe('region captions and warnings', () => {
  it('numbers a question continued on another page', () => {
    const a = region(1, 'answer', 'Q2', 2, 0);
    const b = region(2, 'answer', 'Q2', 2, 1);
    expect(regionCaption(a, [a, b])).toBe('Q2 (1 of 2)');
    expect(regionCaption(b, [a, b])).toBe('Q2 (2 of 2)');
    expect(regionCaption(region(3, 'student_id', null, null), [a, b])).toBe('Student ID');
  });

  it('says how many graded answers an edit grades again, and nothing when none', () => {
    expect(regradeWarning(0, 30, 'move')).toBeNull();
    expect(regradeWarning(12, 30, 'move')).toContain('12 of the 30 graded answers would be graded again');
    expect(regradeWarning(30, 30, 'delete')).toContain('Deleting this region');
    expect(regradeWarning(30, 30, 'delete')).toContain('all 30 graded answers');
  });
});
