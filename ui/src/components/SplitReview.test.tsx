import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as api from '../api';
import type { SplitPage, SplitReview } from '../api/types';
import { exam } from '../test/fixtures';
import { SplitReviewPanel } from './SplitReview';

vi.mock('../api', async (importOriginal) => {
  const actual = await importOriginal<typeof api>();
  return {
    ...actual,
    splitReview: vi.fn(),
    confirmSplit: vi.fn(),
    setPageAside: vi.fn(),
    placePage: vi.fn(),
    movePage: vi.fn(),
    mergeStudents: vi.fn(),
    splitStudent: vi.fn(),
  };
});
vi.mock('sonner', () => ({ toast: Object.assign(vi.fn(), { success: vi.fn(), error: vi.fn() }) }));

afterEach(() => {
  cleanup();
  vi.clearAllMocks();
});

const page = (id: number, slot: number, source: number): SplitPage => ({
  page_id: id,
  template_page: slot,
  source: { file: 'class.pdf', page: source },
  rev: 'r',
  width: 2480,
  height: 3508,
  quality: 0.95,
  residual_px: 0.7,
  flagged: false,
  upside_down: false,
  outside_ink: [],
});

const review: SplitReview = {
  template_pages: 2,
  held: true,
  students: [
    { submission_id: 1, student: 'Student 1', pages: [page(11, 1, 1), page(12, 2, 2)], flags: [] },
    {
      submission_id: 2,
      student: 'Student 2',
      pages: [page(21, 1, 3)],
      flags: [{ kind: 'missing_page', page: 2, message: 'page 2 is missing' }],
    },
  ],
  unassigned: [{ unassigned_id: 7, source: { file: 'class.pdf', page: 4 }, reason: 'matches no page', readable: true }],
};

function renderPanel() {
  vi.mocked(api.splitReview).mockResolvedValue(review);
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(
    <QueryClientProvider client={client}>
      <SplitReviewPanel exam={exam} templatePages={2} />
    </QueryClientProvider>,
  );
}

describe('SplitReviewPanel', () => {
  it('shows each student by template page, the missing page, the flags and the pages nobody got', async () => {
    renderPanel();
    await screen.findByTestId('split-review');
    expect(screen.getByTestId('split-summary').textContent).toContain('1 student with something to look at');
    expect(screen.getByTestId('slot-2-2').textContent).toBe('missing');
    expect(screen.getByText('page 2 is missing')).toBeTruthy();
    expect(screen.getByTestId('loose-list').textContent).toContain('class.pdf, page 4');
  });

  it('gives a loose page to the student missing it, as that page', async () => {
    renderPanel();
    fireEvent.click(await screen.findByTestId('place-7'));
    const dialog = await screen.findByTestId('move-dialog');
    fireEvent.change(dialog.querySelectorAll('select')[0]!, { target: { value: '2' } });
    fireEvent.change(dialog.querySelectorAll('select')[1]!, { target: { value: '2' } });
    fireEvent.click(screen.getByTestId('move-confirm'));
    await waitFor(() => expect(api.placePage).toHaveBeenCalledWith(7, 2, 2));
  });

  it('sets a page aside, merges a student into the one before, and confirms to start grading', async () => {
    renderPanel();
    fireEvent.click(await screen.findByTestId('aside-12'));
    await waitFor(() => expect(api.setPageAside).toHaveBeenCalledWith(12));
    fireEvent.click(screen.getByTestId('merge-2'));
    await waitFor(() => expect(api.mergeStudents).toHaveBeenCalledWith(1, 2));
    fireEvent.click(screen.getByTestId('confirm-split'));
    await waitFor(() => expect(api.confirmSplit).toHaveBeenCalledWith(exam.id));
  });
});
