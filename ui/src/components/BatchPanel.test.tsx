import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import type { ReactNode } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { BatchOverview, Exam } from '../api/types';
import { BatchPanel } from './BatchPanel';

const exam: Exam = { id: 1, name: 'Algebra', questions: [] };

function overview(stored: boolean): BatchOverview {
  return {
    exams: [{ exam_id: 1, mode: 'later', waiting: 3, in_batch: stored ? 0 : 4 }],
    batches: [
      {
        batch: 'batches/7',
        exam_id: 1,
        state: stored ? 'succeeded' : 'running',
        answers: 4,
        succeeded: stored ? 4 : 0,
        failed: 0,
        created_at: 0,
        ended_at: stored ? 1 : null,
        results_stored: stored,
        cost_estimated: 0.004,
        cost_actual: stored ? 0.0035 : null,
        error: null,
      },
    ],
  };
}

function wrap(node: ReactNode, client = new QueryClient()) {
  return <QueryClientProvider client={client}>{node}</QueryClientProvider>;
}

describe('BatchPanel', () => {
  afterEach(cleanup);

  it('shows the mode, the waiting answers and each batch with its costs, and cancel while open', async () => {
    const load = vi.fn(() => Promise.resolve(overview(false)));
    render(wrap(<BatchPanel exam={exam} seq={1} load={load} now={() => 120_000} />));
    await waitFor(() => expect(screen.getByTestId('batch-row')).toBeTruthy());
    expect(screen.getByTestId('mode-later').getAttribute('aria-pressed')).toBe('true');
    expect(screen.getByTestId('batch-waiting').textContent).toContain('3 answers waiting for a batch, 4 in a batch');
    const row = screen.getByTestId('batch-row');
    expect(row.textContent).toContain('batches/7');
    expect(row.textContent).toContain('Running');
    expect(row.textContent).toContain('2 min');
    expect(row.textContent).toContain('$0.0040');
    expect(screen.getByTestId('batch-cancel')).toBeTruthy();
    expect(screen.getByTestId('batch-estimate')).toBeTruthy();
  });

  it('looks again when the live view changes, and the finished batch loses its cancel', async () => {
    let stored = false;
    const load = vi.fn(() => Promise.resolve(overview(stored)));
    const client = new QueryClient();
    const view = render(wrap(<BatchPanel exam={exam} seq={1} load={load} />, client));
    await waitFor(() => expect(screen.getByTestId('batch-cancel')).toBeTruthy());
    stored = true;
    view.rerender(wrap(<BatchPanel exam={exam} seq={2} load={load} />, client));
    await waitFor(() => expect(screen.getByTestId('batch-row').textContent).toContain('$0.0035'));
    expect(load).toHaveBeenCalledTimes(2);
    expect(screen.queryByTestId('batch-cancel')).toBeNull();
    fireEvent.click(screen.getByTestId('mode-now'));
  });
});
