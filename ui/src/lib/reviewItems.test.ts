import { describe, expect, it } from 'vitest';
import type { ReviewRouting } from '../api/types';
import { chosenItems, itemForKey, routingSentence, signedPoints, toggleItem } from './reviewItems';

const question = {
  items: [
    { id: 7, text: 'F = ma', points: 2 },
    { id: 3, text: 'units', points: 1 },
    { id: 9, text: 'sign error', points: -1 },
  ],
};

describe('rubric items in review', () => {
  it('starts from the teacher’s items when they chose some, else the AI’s', () => {
    const applied = [{ item_id: 7, evidence: 'F = ma' }];
    expect(chosenItems({ decision: null, teacher_items: null, applied })).toEqual([7]);
    expect(chosenItems({ decision: 'score', teacher_items: null, applied })).toEqual([7]);
    expect(chosenItems({ decision: 'items', teacher_items: [3, 9], applied })).toEqual([3, 9]);
    expect(chosenItems({ decision: 'items', teacher_items: [], applied })).toEqual([]);
  });

  it('toggles an item and keeps the rubric’s order', () => {
    expect(toggleItem(question, [9], 7)).toEqual([7, 9]);
    expect(toggleItem(question, [7, 9], 7)).toEqual([9]);
    expect(toggleItem(question, [], 3)).toEqual([3]);
  });

  it('maps number keys to the items in order, nothing past the last', () => {
    expect(itemForKey(question, '1')).toBe(7);
    expect(itemForKey(question, '3')).toBe(9);
    expect(itemForKey(question, '4')).toBeNull();
    expect(itemForKey(question, '0')).toBeNull();
    expect(itemForKey(question, 'a')).toBeNull();
    expect(itemForKey(undefined, '1')).toBeNull();
  });

  it('shows signed points', () => {
    expect(signedPoints(2)).toBe('+2');
    expect(signedPoints(-1.5)).toBe('−1.5');
  });
});

describe('routingSentence', () => {
  const base: ReviewRouting = {
    question_label: 'Q1',
    policy: { auto_accept: true, confidence_threshold: 0.8, agreement_target: 0.9, double_grading: false },
    reviewed: 0,
    exact: 0,
    min_reviewed: 10,
    flagged: 0,
    waiting: 30,
    auto_accepted: 0,
    by_teacher: 0,
  };
  it('says why nothing or what is accepted', () => {
    expect(routingSentence({ ...base, policy: { ...base.policy, auto_accept: false } })).toBe(
      'Auto-accept is off: every answer waits for you (no answers reviewed yet).',
    );
    expect(routingSentence({ ...base, reviewed: 4, exact: 4 })).toBe(
      'Nothing is accepted automatically yet: agreement counts after 10 reviewed answers (the AI gave your score on 4 of 4 reviewed (100%)).',
    );
    expect(routingSentence({ ...base, reviewed: 10, exact: 8 })).toBe(
      'Nothing is accepted automatically: the AI gave your score on 8 of 10 reviewed (80%), below the 90% target.',
    );
    expect(routingSentence({ ...base, reviewed: 10, exact: 9 })).toBe(
      'Answers with confidence of 80% or more are accepted automatically: the AI gave your score on 9 of 10 reviewed (90%), target 90%.',
    );
  });
});
