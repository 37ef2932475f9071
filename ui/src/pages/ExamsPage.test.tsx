import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { cleanup, render, screen } from '@testing-library/react';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type * as api from '../api';
import type { SubmissionView } from '../api/types';
import { LiveContext } from '../live/LiveContext';
import type { Live } from '../live/useLive';
import { queueStatus, snap, submission } from '../test/fixtures';
import { ExamsPage } from './ExamsPage';

vi.mock('../api', async (importOriginal) => ({
  ...(await importOriginal<typeof api>()),
  pageThumbUrl: vi.fn((id: number, rev: string | null) => `gdimg://thumb/${id}/${rev}`),
}));

vi.mock('sonner', () => ({ toast: Object.assign(vi.fn(), { success: vi.fn(), error: vi.fn() }) }));

// jsdom lays nothing out: a 600 px viewport with 40 px rows.
const SIZES = { clientHeight: 600, clientWidth: 1000, offsetHeight: 40, offsetWidth: 1000 } as const;
const saved = Object.keys(SIZES).map((k) => [k, Object.getOwnPropertyDescriptor(HTMLElement.prototype, k)] as const);
beforeAll(() => {
  for (const [k, v] of Object.entries(SIZES)) {
    Object.defineProperty(HTMLElement.prototype, k, { configurable: true, get: () => v });
  }
});
afterAll(() => {
  for (const [k, d] of saved) {
    if (d) Object.defineProperty(HTMLElement.prototype, k, d);
    else delete (HTMLElement.prototype as unknown as Record<string, unknown>)[k];
  }
});
afterEach(cleanup);

function renderWith(submissions: SubmissionView[]) {
  const live: Live = {
    snapshot: { ...snap(5, []), submissions, queue: queueStatus() },
    live: true,
    polling: false,
    seq: 5,
    error: null,
    loading: false,
    refresh: vi.fn(),
  };
  const client = new QueryClient();
  return render(
    <QueryClientProvider client={client}>
      <LiveContext.Provider value={live}>
        <ExamsPage selectedExamId={1} onSelectExam={() => {}} onOpenSubmission={() => {}} />
      </LiveContext.Provider>
    </QueryClientProvider>,
  );
}

const many = (n: number) =>
  Array.from({ length: n }, (_, k) => ({ ...submission, id: k + 1, student: `Student ${k + 1}`, file_name: `s${k + 1}.jpg` }));

describe('ExamsPage', () => {
  it('renders a short class in full, with the progress panel', () => {
    renderWith(many(5));
    expect(screen.getAllByTestId(/^submission-row-/)).toHaveLength(5);
    expect(screen.getByTestId('progress-panel')).toBeTruthy();
  });

  it('shows each scan by its first page thumbnail, and none for a scan without pages', () => {
    renderWith([
      { ...submission, id: 1, first_page_id: 41, first_page_rev: 'e41' },
      { ...submission, id: 2, first_page_id: null, first_page_rev: null, pages: 0 },
    ]);
    expect(screen.getByTestId('submission-thumb-1').getAttribute('src')).toBe('gdimg://thumb/41/e41');
    // Decorative: the student's name labels the row, the picture only helps the eye.
    expect(screen.getByTestId('submission-thumb-1').getAttribute('alt')).toBe('');
    expect(screen.queryByTestId('submission-thumb-2')).toBeNull();
  });

  it('renders only the rows in view of a long list', () => {
    renderWith(many(2000));
    const rows = screen.getAllByTestId(/^submission-row-/);
    expect(rows.length).toBeGreaterThan(5);
    expect(rows.length).toBeLessThan(100);
    expect(screen.getByTestId('submission-list').getAttribute('aria-rowcount')).toBe('2001');
  });
});
