import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import * as api from '../api';
import type { ReviewRow } from '../api/types';
import { LiveContext } from '../live/LiveContext';
import type { Live } from '../live/useLive';
import { exam, snap } from '../test/fixtures';
import { ReviewPage } from './ReviewPage';

vi.mock('../api', async (importOriginal) => {
  const actual = await importOriginal<typeof api>();
  return {
    ...actual,
    reviewItems: vi.fn(),
    addOutsideWriting: vi.fn().mockResolvedValue(1),
    dismissOutsideWriting: vi.fn().mockResolvedValue(undefined),
    overrideScore: vi.fn(),
    cropImageUrl: vi.fn((id: number) => `gdimg://crop/${id}`),
  };
});
vi.mock('sonner', () => ({ toast: Object.assign(vi.fn(), { success: vi.fn(), error: vi.fn() }) }));

// jsdom lays nothing out: give every element a size so the virtual list renders rows.
const SIZES = { clientHeight: 800, clientWidth: 1000, offsetHeight: 180, offsetWidth: 1000 } as const;
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

afterEach(() => {
  cleanup();
  vi.clearAllMocks();
});

function row(id: number, extra: Partial<ReviewRow> = {}): ReviewRow {
  return {
    item_id: id,
    submission_id: id,
    student: `Student ${id}`,
    question_label: 'Q1',
    state: 'done',
    max_points: 2,
    ai_score: 1.5,
    feedback: 'Good.',
    transcription: 'F = ma',
    confidence: 0.9,
    needs_review: false,
    review_reason: null,
    teacher_score: null,
    teacher_note: null,
    score: 1.5,
    history: [{ by: 'ai', score: 1.5, note: null, at_ms: 1 }],
    outside_writing: null,
    outside: [],
    ...extra,
  };
}

function renderPage() {
  const live: Live = {
    snapshot: snap(5, []),
    live: true,
    polling: false,
    seq: 5,
    error: null,
    loading: false,
    refresh: vi.fn(),
  };
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <QueryClientProvider client={client}>
      <LiveContext.Provider value={live}>
        <ReviewPage exam={exam} onBack={() => {}} initialRect={{ width: 1000, height: 800 }} />
      </LiveContext.Provider>
    </QueryClientProvider>,
  );
}

describe('ReviewPage', () => {
  it('shows each answer side by side with names and model text as text', async () => {
    vi.mocked(api.reviewItems).mockResolvedValue([
      row(1, { needs_review: true, review_reason: 'Illegible', student: '<b>Ada</b>', feedback: '<i>x</i>' }),
      row(2, { teacher_score: 2, score: 2, outside_writing: 'writing outside the boxes on page 2', outside: [{ page_id: 77, rev: 'r', template_page: 2, index: 0, page_box: { x: 0.1, y: 0.8, w: 0.3, h: 0.05 } }], history: [{ by: 'ai', score: 1.5, note: null, at_ms: 1 }, { by: 'teacher', score: 2, note: null, at_ms: 2 }] }),
    ]);
    renderPage();
    expect(await screen.findByText('<b>Ada</b>')).toBeTruthy();
    expect(screen.getByText('<i>x</i>')).toBeTruthy();
    expect(screen.getByText('Illegible')).toBeTruthy();
    expect(screen.getByTestId('review-ai-1').textContent).toBe('1.5 / 2');
    expect(screen.getByTestId('review-teacher-2').textContent).toBe('2 / 2');
    const history = screen.getByTestId('review-history-2');
    expect(history.querySelectorAll('li')).toHaveLength(2);
    expect(history.textContent).toMatch(/AI: 1\.5.*Teacher: 2/);
    expect(history.querySelectorAll('time')[1]!.getAttribute('datetime')).toBe(new Date(2).toISOString());
    expect(api.reviewItems).toHaveBeenCalledWith(1, 'Q1');
    expect(document.querySelector('b')).toBeNull();
    // The class import's note about writing beyond the regions, on that answer only.
    expect(screen.getByTestId('outside-2').textContent).toMatch(/writing outside the boxes on page 2/);
    expect(screen.queryByTestId('outside-1')).toBeNull();
    // Its piece of writing is shown, and one click adds it to this answer.
    expect(screen.getByTestId('outside-thumb-77-0')).toBeTruthy();
    fireEvent.click(screen.getByTestId('outside-add-77-0'));
    await waitFor(() => expect(api.addOutsideWriting).toHaveBeenCalledWith(2, 77, 0));
    fireEvent.click(screen.getByTestId('outside-ignore-77-0'));
    await waitFor(() => expect(api.dismissOutsideWriting).toHaveBeenCalledWith(77, 0));
  });

  it('grades with the keyboard: Enter accepts, digits and "." set a score, j/k move', async () => {
    vi.mocked(api.reviewItems).mockResolvedValue([row(1), row(2), row(3)]);
    vi.mocked(api.overrideScore).mockImplementation((itemId, score) =>
      Promise.resolve({ item_id: itemId, score, note: null, created_at: 1 }),
    );
    renderPage();
    const list = await screen.findByTestId('review-list');
    fireEvent.keyDown(list, { key: 'Enter' });
    await waitFor(() => expect(api.overrideScore).toHaveBeenCalledWith(1, 1.5, undefined));
    // Saving moved on to the second answer.
    await waitFor(() => expect(screen.getByTestId('review-row-2').getAttribute('aria-selected')).toBe('true'));
    fireEvent.keyDown(list, { key: '0' });
    fireEvent.keyDown(list, { key: '.' });
    fireEvent.keyDown(list, { key: '5' });
    expect(screen.getByTestId('review-pending').textContent).toBe('New score: 0.5');
    fireEvent.keyDown(list, { key: 'Enter' });
    await waitFor(() => expect(api.overrideScore).toHaveBeenCalledWith(2, 0.5, undefined));
    await waitFor(() => expect(screen.getByTestId('review-row-3').getAttribute('aria-selected')).toBe('true'));
    fireEvent.keyDown(list, { key: 'k' });
    expect(screen.getByTestId('review-row-2').getAttribute('aria-selected')).toBe('true');
    fireEvent.keyDown(list, { key: 'j' });
    expect(screen.getByTestId('review-row-3').getAttribute('aria-selected')).toBe('true');
  });

  it('refuses a score above the question’s points without calling the core', async () => {
    const { toast } = await import('sonner');
    vi.mocked(api.reviewItems).mockResolvedValue([row(1)]);
    renderPage();
    const list = await screen.findByTestId('review-list');
    fireEvent.keyDown(list, { key: '3' });
    fireEvent.keyDown(list, { key: 'Enter' });
    expect(api.overrideScore).not.toHaveBeenCalled();
    expect(vi.mocked(toast.error)).toHaveBeenCalledWith('Enter a score between 0 and 2.', { id: 'review-score' });
  });

  it('sends the teacher’s note with the score and shows history with notes and times', async () => {
    vi.mocked(api.reviewItems).mockResolvedValue([
      row(1, {
        history: [
          { by: 'ai', score: 1.5, note: null, at_ms: Date.UTC(2025, 2, 12, 14, 5) },
          { by: 'teacher', score: 1, note: 'units missing', at_ms: Date.UTC(2025, 2, 12, 15, 0) },
        ],
      }),
      row(2),
    ]);
    vi.mocked(api.overrideScore).mockResolvedValue({ item_id: 1, score: 1, note: 'see margin', created_at: 3 });
    renderPage();
    const list = await screen.findByTestId('review-list');
    expect(screen.getByTestId('review-history-1').textContent).toContain('Teacher: 1 — units missing');
    fireEvent.keyDown(list, { key: '1' });
    const note = screen.getByLabelText('Note with your score (optional)');
    fireEvent.change(note, { target: { value: '  see margin ' } });
    // Typing in the note does not change the pending score.
    fireEvent.keyDown(note, { key: '5' });
    expect(screen.getByTestId('review-pending').textContent).toBe('New score: 1');
    fireEvent.keyDown(note, { key: 'Enter' });
    await waitFor(() => expect(api.overrideScore).toHaveBeenCalledWith(1, 1, 'see margin'));
  });
});
