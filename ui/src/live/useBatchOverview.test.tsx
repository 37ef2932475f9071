import { cleanup, renderHook } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { BatchOverview, BatchSummary } from '../api/types';
import { useBatchFinished } from './useBatchOverview';

function overview(stored: boolean): BatchOverview {
  const b: BatchSummary = {
    batch: 'batches/3',
    exam_id: 1,
    state: stored ? 'succeeded' : 'running',
    answers: 2,
    succeeded: stored ? 2 : 0,
    failed: 0,
    created_at: 0,
    ended_at: stored ? 1 : null,
    results_stored: stored,
    cost_estimated: 0.002,
    cost_actual: stored ? 0.0018 : null,
    error: null,
  };
  return { exams: [], batches: [b] };
}

describe('useBatchFinished', () => {
  afterEach(cleanup);

  it('announces a batch once when its results come in, not one already in at start', () => {
    const announce = vi.fn();
    const hook = renderHook(({ o }) => useBatchFinished(o, announce), { initialProps: { o: overview(false) } });
    expect(announce).not.toHaveBeenCalled();
    hook.rerender({ o: overview(true) });
    expect(announce).toHaveBeenCalledTimes(1);
    expect(announce).toHaveBeenCalledWith('Batch results are in', '2 answers graded for $0.0018.');
    hook.rerender({ o: overview(true) });
    expect(announce).toHaveBeenCalledTimes(1);

    const late = vi.fn();
    renderHook(() => useBatchFinished(overview(true), late));
    expect(late).not.toHaveBeenCalled();
  });
});
