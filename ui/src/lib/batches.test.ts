import { describe, expect, it } from 'vitest';
import type { BatchSummary } from '../api/types';
import { batchAge, batchFinishedMessage, batchStateLabel, formatCost, isOpen, newlyFinished } from './batches';

function batch(name: string, extra: Partial<BatchSummary> = {}): BatchSummary {
  return {
    batch: name,
    exam_id: 1,
    state: 'running',
    answers: 10,
    succeeded: 0,
    failed: 0,
    created_at: 0,
    ended_at: null,
    results_stored: false,
    cost_estimated: 0.01,
    cost_actual: null,
    error: null,
    ...extra,
  };
}

describe('batches', () => {
  it('announces a batch once, when its results are stored', () => {
    const running = [batch('batches/1'), batch('batches/2', { results_stored: true, state: 'succeeded' })];
    expect(newlyFinished(null, running)).toEqual([]);
    const done = [batch('batches/1', { results_stored: true, state: 'succeeded', succeeded: 9, failed: 1 }), running[1]!];
    expect(newlyFinished(running, done).map((b) => b.batch)).toEqual(['batches/1']);
    expect(newlyFinished(done, done)).toEqual([]);
  });

  it('speaks the teacher’s words', () => {
    expect(formatCost(null)).toBe('–');
    expect(formatCost(0.01234)).toBe('$0.0123');
    expect(formatCost(12.5)).toBe('$12.50');
    expect(batchAge(0, 30_000)).toBe('just now');
    expect(batchAge(0, 3_900_000)).toBe('1 h 5 min');
    expect(batchAge(0, 2 * 86_400_000 + 4 * 3_600_000)).toBe('2 d 4 h');
    expect(batchStateLabel({ state: 'pending', results_stored: false })).toBe('Waiting at Gemini');
    expect(batchStateLabel({ state: 'succeeded', results_stored: false })).toBe('Done, storing results');
    expect(isOpen(batch('b'))).toBe(true);
    expect(isOpen(batch('b', { ended_at: 5 }))).toBe(false);
    const m = batchFinishedMessage(batch('b', { succeeded: 9, failed: 1, cost_actual: 0.002 }));
    expect(m.body).toBe('9 answers graded, 1 back to waiting or refused for $0.0020.');
  });
});
