import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { toast } from 'sonner';
import * as api from '../api';
import type { QueueStatus, SubmissionDetail } from '../api/types';
import { LiveContext } from '../live/LiveContext';
import type { Live } from '../live/useLive';
import { item, queueStatus, snap, submission } from '../test/fixtures';
import { CropPage } from './CropPage';

vi.mock('../api', async (importOriginal) => {
  const actual = await importOriginal<typeof api>();
  return {
    ...actual,
    getSubmission: vi.fn(),
    createItem: vi.fn(),
    deleteItem: vi.fn(),
    recropItem: vi.fn(),
    restoreItem: vi.fn(),
    cancelItem: vi.fn(),
    prioritizeItem: vi.fn(),
    retryItem: vi.fn(),
    renameStudent: vi.fn(),
    pageImageUrl: vi.fn((id: number, rev: string) => `gdimg://page/${id}/${rev}`),
    pageThumbUrl: vi.fn((id: number, rev: string | null) => `gdimg://thumb/${id}/${rev}`),
  };
});

vi.mock('sonner', () => ({ toast: Object.assign(vi.fn(), { success: vi.fn(), error: vi.fn() }) }));

const detail: SubmissionDetail = {
  submission: { ...submission, student: '<b>Ada</b>' },
  pages: [
    { id: 501, number: 1, width: 1000, height: 500, rev: 'r501' },
    { id: 502, number: 2, width: 1000, height: 500, rev: 'r502' },
  ],
  items: [
    item(1, 'grading'),
    item(2, 'done', { question_label: 'Q2', max_points: 2, score: 1.5, feedback: '<i>Nice</i>' }),
    item(3, 'failed', { page_number: 2 }),
  ],
};

function renderPage(liveItems = detail.items, queue?: QueueStatus) {
  const live: Live = {
    snapshot: { ...snap(5, liveItems), queue },
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
        <CropPage submissionId={7} onBack={() => {}} />
      </LiveContext.Provider>
    </QueryClientProvider>,
  );
}

async function surface(): Promise<HTMLElement> {
  const el = await screen.findByTestId('crop-surface');
  el.getBoundingClientRect = () =>
    ({ left: 100, top: 50, width: 200, height: 100, right: 300, bottom: 150, x: 100, y: 50 }) as DOMRect;
  return el;
}

function drag(el: HTMLElement, from: [number, number], to: [number, number]) {
  fireEvent.pointerDown(el, { pointerId: 1, button: 0, clientX: from[0], clientY: from[1] });
  fireEvent.pointerMove(el, { pointerId: 1, clientX: (from[0] + to[0]) / 2, clientY: (from[1] + to[1]) / 2 });
  expect(screen.getByTestId('crop-rect')).toBeTruthy();
  fireEvent.pointerUp(el, { pointerId: 1, button: 0, clientX: to[0], clientY: to[1] });
}

beforeEach(() => {
  vi.mocked(api.getSubmission).mockResolvedValue(detail);
  vi.mocked(api.createItem).mockResolvedValue({ item_id: 9, job_id: 90 });
  vi.mocked(api.deleteItem).mockResolvedValue(undefined);
  vi.mocked(api.recropItem).mockResolvedValue({ item_id: 10, job_id: 100 });
});

afterEach(cleanup);

describe('CropPage', () => {
  it('shows the page image by id and the page navigation', async () => {
    renderPage();
    const img = await screen.findByTestId('page-image');
    expect(img.getAttribute('src')).toBe('gdimg://page/501/r501');
    expect(screen.getByTestId('page-indicator').textContent).toBe('Page 1 of 2');
    fireEvent.click(screen.getByTestId('page-next'));
    expect(screen.getByTestId('page-image').getAttribute('src')).toBe('gdimg://page/502/r502');
  });

  it('sends the drawn box as fractions of the displayed image, with the chosen question', async () => {
    renderPage();
    const el = await surface();
    // Drawn right-to-left and past the bottom edge: normalized and clamped.
    drag(el, [200, 60], [120, 170]);
    fireEvent.change(screen.getByTestId('question-select'), { target: { value: 'Q2' } });
    fireEvent.click(screen.getByTestId('grade-button'));
    await waitFor(() => expect(api.createItem).toHaveBeenCalledTimes(1));
    const args = vi.mocked(api.createItem).mock.calls[0]![0];
    expect(args).toMatchObject({ submissionId: 7, pageNumber: 1, questionLabel: 'Q2' });
    expect(args.bbox.x).toBeCloseTo(0.1);
    expect(args.bbox.y).toBeCloseTo(0.1);
    expect(args.bbox.w).toBeCloseTo(0.4);
    expect(args.bbox.h).toBeCloseTo(0.9);
  });

  it('rejects a zero-size box with a message', async () => {
    renderPage();
    const el = await surface();
    fireEvent.pointerDown(el, { pointerId: 1, button: 0, clientX: 150, clientY: 80 });
    fireEvent.pointerUp(el, { pointerId: 1, button: 0, clientX: 150, clientY: 80 });
    expect(screen.getByTestId('crop-message').textContent).toMatch(/too small/);
    fireEvent.click(screen.getByTestId('grade-button'));
    expect(screen.getByTestId('crop-message').textContent).toMatch(/Draw a box/);
    expect(api.createItem).not.toHaveBeenCalled();
  });

  it('shows each answer’s state, score and error as text', async () => {
    renderPage();
    const grading = await screen.findByTestId('item-state-1');
    expect(grading.dataset.state).toBe('grading');
    expect(grading.querySelector('.spinner')).not.toBeNull();
    const done = screen.getByTestId('item-state-2');
    expect(done.dataset.state).toBe('done');
    expect(done.textContent).toContain('1.5 / 2');
    expect(done.textContent).toContain('<i>Nice</i>');
    expect(done.querySelector('i')).toBeNull();
    const failed = screen.getByTestId('item-state-3');
    expect(failed.dataset.state).toBe('failed');
    expect(failed.textContent).toContain('The model could not read the handwriting.');
    expect(screen.getByRole('heading', { level: 1 }).textContent).toContain('<b>Ada</b>');
    // Boxes of the current page only.
    expect(screen.getByTestId('item-box-1')).toBeTruthy();
    expect(screen.queryByTestId('item-box-3')).toBeNull();
  });

  it('prefers the live state of an item over the fetched detail', async () => {
    renderPage([item(1, 'done', { score: 2 })]);
    const row = await screen.findByTestId('item-state-1');
    expect(row.dataset.state).toBe('done');
    expect(row.textContent).toContain('2 / 2');
  });

  it('shows each box\'s live state on the page: a spinner while grading, Done when graded', async () => {
    renderPage();
    const grading = await screen.findByTestId('item-box-status-1');
    expect(grading.textContent).toBe('Grading');
    expect(grading.querySelector('.spinner')).not.toBeNull();
    expect(screen.getByTestId('item-box-status-2').textContent).toBe('Done');
    expect(screen.getByTestId('item-box-1').getAttribute('aria-label')).toMatch(/^Q1 answer box, Grading\./);
  });

  it('says what a waiting answer waits for, on its box and in the list', async () => {
    const items = [item(1, 'queued'), item(2, 'done', { question_label: 'Q2', score: 2 })];
    vi.mocked(api.getSubmission).mockResolvedValue({ ...detail, items });
    renderPage(items, queueStatus({ provider: { hold: 'offline', next_try_at_ms: null } }));
    const status = await screen.findByTestId('item-box-status-1');
    expect(status.textContent).toBe('Waiting for network');
    const pill = screen.getByTestId('item-pill-1');
    expect(pill.textContent).toBe('Waiting for network');
    expect(pill.getAttribute('title')).toBe('No connection to Gemini.');
    // A graded answer stays Done whatever holds the queue.
    expect(screen.getByTestId('item-box-status-2').textContent).toBe('Done');
  });

  it('says a waiting answer needs the API key when grading has stopped for it', async () => {
    const items = [item(1, 'retrying')];
    vi.mocked(api.getSubmission).mockResolvedValue({ ...detail, items });
    renderPage(items, queueStatus({ halted: 'the Gemini API key was rejected' }));
    expect((await screen.findByTestId('item-pill-1')).textContent).toBe('Waiting for API key');
    expect(screen.getByTestId('item-box-status-1').textContent).toBe('Waiting for API key');
  });

  it('shows a core error as its message', async () => {
    vi.mocked(api.createItem).mockRejectedValue(
      new api.CommandError('bad_box', 'The box is outside the page.'),
    );
    renderPage();
    const el = await surface();
    drag(el, [120, 60], [200, 120]);
    fireEvent.click(screen.getByTestId('grade-button'));
    await waitFor(() =>
      expect(screen.getByTestId('crop-message').textContent).toBe('The box is outside the page.'),
    );
  });
});

describe('CropPage answer actions', () => {
  it('cancels, grades now and retries from the answer list', async () => {
    const items = [item(1, 'grading'), item(2, 'queued', { question_label: 'Q2' }), item(3, 'failed', { page_number: 2 })];
    vi.mocked(api.getSubmission).mockResolvedValue({ ...detail, items });
    vi.mocked(api.cancelItem).mockResolvedValue(undefined);
    vi.mocked(api.prioritizeItem).mockResolvedValue(undefined);
    vi.mocked(api.retryItem).mockResolvedValue(1);
    renderPage(items);
    fireEvent.click(await screen.findByTestId('cancel-1'));
    await waitFor(() => expect(api.cancelItem).toHaveBeenCalledWith(1));
    expect(screen.queryByTestId('grade-now-1')).toBeNull();
    fireEvent.click(screen.getByTestId('grade-now-2'));
    await waitFor(() => expect(api.prioritizeItem).toHaveBeenCalledWith(2));
    fireEvent.click(screen.getByTestId('retry-3'));
    await waitFor(() => expect(api.retryItem).toHaveBeenCalledWith(3));
    expect(screen.getByLabelText('Retry grading of Q1 on page 2')).toBeTruthy();
  });
});

describe('CropPage student name', () => {
  it('renames the student inline and shows the name as text', async () => {
    vi.mocked(api.getSubmission).mockResolvedValue(detail);
    vi.mocked(api.renameStudent).mockResolvedValue(undefined);
    renderPage();
    fireEvent.click(await screen.findByTestId('rename-student'));
    const input = screen.getByTestId<HTMLInputElement>('student-name-input');
    expect(input.value).toBe('<b>Ada</b>');
    fireEvent.change(input, { target: { value: '  ' } });
    fireEvent.click(screen.getByTestId('student-name-save'));
    expect((await screen.findByRole('alert')).textContent).toBe('Enter the student’s name.');
    fireEvent.change(input, { target: { value: ' Ada Lovelace ' } });
    fireEvent.click(screen.getByTestId('student-name-save'));
    await waitFor(() => expect(api.renameStudent).toHaveBeenCalledWith(7, 'Ada Lovelace'));
  });

  it('moves and resizes a focused box with the keyboard and saves it as a re-crop on Enter', async () => {
    renderPage();
    const box = await screen.findByTestId('item-box-1');
    fireEvent.focus(box);
    expect(box.getAttribute('aria-pressed')).toBe('true');
    expect(box.querySelectorAll('[data-corner]')).toHaveLength(4);
    fireEvent.keyDown(box, { key: 'ArrowRight' });
    fireEvent.keyDown(box, { key: 'ArrowDown', shiftKey: true });
    expect(api.recropItem).not.toHaveBeenCalled();
    fireEvent.keyDown(box, { key: 'Enter' });
    await waitFor(() => expect(api.recropItem).toHaveBeenCalledTimes(1));
    const [itemId, label, bbox] = vi.mocked(api.recropItem).mock.calls[0]!;
    expect([itemId, label]).toEqual([1, 'Q1']);
    expect(bbox.x).toBeCloseTo(0.11);
    expect(bbox.y).toBeCloseTo(0.1);
    expect(bbox.w).toBeCloseTo(0.5);
    expect(bbox.h).toBeCloseTo(0.21);
    expect(api.createItem).not.toHaveBeenCalled();
    expect(api.deleteItem).not.toHaveBeenCalled();
  });

  it('drags a selected box by a corner and saves it on release', async () => {
    renderPage();
    const el = await surface();
    const box = screen.getByTestId('item-box-1');
    fireEvent.pointerDown(box, { pointerId: 2, button: 0, clientX: 150, clientY: 70 });
    fireEvent.pointerUp(el, { pointerId: 2, button: 0, clientX: 150, clientY: 70 });
    expect(api.recropItem).not.toHaveBeenCalled(); // a click only selects
    const corner = box.querySelector('[data-corner="se"]')!;
    // The se corner is at (0.6, 0.3) = (220, 80); drag it to (0.8, 0.5) = (260, 100).
    fireEvent.pointerDown(corner, { pointerId: 3, button: 0, clientX: 220, clientY: 80 });
    fireEvent.pointerMove(el, { pointerId: 3, clientX: 240, clientY: 90 });
    fireEvent.pointerUp(el, { pointerId: 3, button: 0, clientX: 260, clientY: 100 });
    await waitFor(() => expect(api.recropItem).toHaveBeenCalledTimes(1));
    const bbox = vi.mocked(api.recropItem).mock.calls[0]![2];
    expect(bbox.x).toBeCloseTo(0.1);
    expect(bbox.y).toBeCloseTo(0.1);
    expect(bbox.w).toBeCloseTo(0.7);
    expect(bbox.h).toBeCloseTo(0.4);
  });

  it('offers Undo on a deleted box, which brings it back through the core', async () => {
    vi.mocked(api.restoreItem).mockResolvedValue(undefined);
    renderPage();
    const box = await screen.findByTestId('item-box-1');
    fireEvent.focus(box);
    fireEvent.keyDown(box, { key: 'Delete' });
    await waitFor(() => expect(toast.success).toHaveBeenCalledWith('Q1 box deleted', expect.anything()));
    const options = vi.mocked(toast.success).mock.calls.find((c) => c[0] === 'Q1 box deleted')![1] as {
      action: { label: string; onClick: () => void };
    };
    expect(options.action.label).toBe('Undo');
    options.action.onClick();
    await waitFor(() => expect(api.restoreItem).toHaveBeenCalledWith(1));
    await waitFor(() => expect(toast.success).toHaveBeenCalledWith('Q1 box is back'));
  });

  it('deletes a box with the Delete key and from the answer list', async () => {
    renderPage();
    const box = await screen.findByTestId('item-box-1');
    fireEvent.focus(box);
    fireEvent.keyDown(box, { key: 'Delete' });
    await waitFor(() => expect(api.deleteItem).toHaveBeenCalledWith(1));
    fireEvent.click(screen.getByRole('button', { name: 'Delete the Q2 on page 1 box' }));
    await waitFor(() => expect(api.deleteItem).toHaveBeenCalledWith(2));
  });

  it('gives a drawn box the Nth question with a number key, and moves a box to another question', async () => {
    renderPage();
    const el = await surface();
    drag(el, [120, 60], [200, 100]);
    fireEvent.keyDown(el, { key: '2' });
    await waitFor(() => expect(api.createItem).toHaveBeenCalledTimes(1));
    expect(vi.mocked(api.createItem).mock.calls[0]![0]).toMatchObject({ questionLabel: 'Q2' });
    expect(api.deleteItem).not.toHaveBeenCalled();

    const box = screen.getByTestId('item-box-1');
    fireEvent.focus(box);
    fireEvent.keyDown(box, { key: '2' });
    // One core call moves the box: never a create and a delete that could half-succeed.
    await waitFor(() => expect(api.recropItem).toHaveBeenCalledWith(1, 'Q2', item(1, 'grading').bbox));
    expect(api.createItem).toHaveBeenCalledTimes(1);
    expect(api.deleteItem).not.toHaveBeenCalled();
  });

  it('keeps the old box and says why when a re-crop is refused', async () => {
    vi.mocked(api.recropItem).mockRejectedValue(
      new api.CommandError('invalid', 'This answer box was already removed or replaced by a newer box.'),
    );
    renderPage();
    const box = await screen.findByTestId('item-box-1');
    fireEvent.focus(box);
    fireEvent.keyDown(box, { key: 'ArrowRight' });
    fireEvent.keyDown(box, { key: 'Enter' });
    await waitFor(() =>
      expect(screen.getByTestId('crop-message').textContent).toBe(
        'This answer box was already removed or replaced by a newer box.',
      ),
    );
    expect(screen.getByTestId('item-box-1')).toBeTruthy();
  });

  it('shows every page as a thumbnail with its box count and goes to a page on click', async () => {
    renderPage();
    const strip = await screen.findByTestId('page-strip');
    const thumbs = strip.querySelectorAll('img');
    expect(Array.from(thumbs, (t) => t.getAttribute('src'))).toEqual(['gdimg://thumb/501/r501', 'gdimg://thumb/502/r502']);
    const first = screen.getByRole('button', { name: 'Page 1, 2 answer boxes' });
    expect(first.getAttribute('aria-current')).toBe('page');
    const second = screen.getByRole('button', { name: 'Page 2, 1 answer box' });
    fireEvent.click(second);
    expect(screen.getByTestId('page-image').getAttribute('src')).toBe('gdimg://page/502/r502');
    expect(second.getAttribute('aria-current')).toBe('page');
    expect(first.getAttribute('aria-current')).toBeNull();
  });

  it('shows no page strip for a one-page scan', async () => {
    vi.mocked(api.getSubmission).mockResolvedValue({ ...detail, pages: [detail.pages[0]!] });
    renderPage();
    await screen.findByTestId('page-image');
    expect(screen.queryByTestId('page-strip')).toBeNull();
  });

  it('pages with PageDown/PageUp and brackets, but not while typing in a field', async () => {
    renderPage();
    await screen.findByTestId('page-image');
    fireEvent.keyDown(document.body, { key: 'PageDown' });
    expect(screen.getByTestId('page-indicator').textContent).toBe('Page 2 of 2');
    fireEvent.keyDown(document.body, { key: '[' });
    expect(screen.getByTestId('page-indicator').textContent).toBe('Page 1 of 2');
    fireEvent.keyDown(screen.getByTestId('question-select'), { key: ']' });
    expect(screen.getByTestId('page-indicator').textContent).toBe('Page 1 of 2');
    expect(screen.getByTestId('crop-shortcuts').textContent).toContain('PgDn');
  });

  it('pans the page viewport with a middle-button drag', async () => {
    renderPage();
    const el = await surface();
    const viewport = el.closest('.stage-viewport') as HTMLElement;
    viewport.scrollLeft = 100;
    viewport.scrollTop = 50;
    fireEvent.pointerDown(el, { pointerId: 4, button: 1, clientX: 200, clientY: 100 });
    fireEvent.pointerMove(el, { pointerId: 4, clientX: 170, clientY: 80 });
    expect(viewport.scrollLeft).toBe(130);
    expect(viewport.scrollTop).toBe(70);
    fireEvent.pointerUp(el, { pointerId: 4, button: 1, clientX: 170, clientY: 80 });
    expect(screen.queryByTestId('crop-rect')).toBeNull();
  });
});
