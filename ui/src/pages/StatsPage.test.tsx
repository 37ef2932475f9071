import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as api from '../api';
import type { ExamStats } from '../api/types';
import { LiveContext } from '../live/LiveContext';
import type { Live } from '../live/useLive';
import { exam, snap } from '../test/fixtures';
import { StatsPage } from './StatsPage';

vi.mock('../api', async (importOriginal) => {
  const actual = await importOriginal<typeof api>();
  return { ...actual, examStats: vi.fn(), exportFolder: vi.fn(), exportGradebook: vi.fn(), exportFeedback: vi.fn() };
});
vi.mock('sonner', () => ({ toast: Object.assign(vi.fn(), { success: vi.fn(), error: vi.fn() }) }));

afterEach(() => {
  cleanup();
  vi.clearAllMocks();
});

const bins = (counts: number[]) => counts.map((count, k) => ({ lo: k - 0.5, hi: k + 0.5, count }));
const stats: ExamStats = {
  questions: exam.questions.map((q, k) => ({
    label: q.label,
    max_points: q.max_points,
    n: 10,
    mean: 1.25 + k,
    median: 1,
    sd: 0.5,
    facility: 0.6,
    discrimination: k === 0 ? 0.1 : 0.4,
    low_discrimination: k === 0,
    blank_share: 0.1,
    histogram: bins([1, 4, 5]),
    agreement: {
      n: k === 0 ? 12 : 0,
      exact: k === 0 ? 0.75 : null,
      within_one: k === 0 ? 1 : null,
      mae: k === 0 ? 0.25 : null,
      qwk: k === 0 ? 0.88 : null,
      levels: [0, 1, 2],
      confusion: [
        [3, 1, 0],
        [0, 4, 1],
        [0, 1, 2],
      ],
    },
  })),
  exam: { n: 9, max_points: 5, mean: 3.2, sd: 1.1, alpha: 0.74, histogram: bins([0, 2, 3, 4, 1, 0, 0, 0, 0, 0]) },
};

function renderPage() {
  const live: Live = { snapshot: snap(5, []), live: true, polling: false, seq: 5, error: null, loading: false, refresh: vi.fn() };
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <QueryClientProvider client={client}>
      <LiveContext.Provider value={live}>
        <StatsPage exam={exam} onBack={() => {}} />
      </LiveContext.Provider>
    </QueryClientProvider>,
  );
}

describe('StatsPage', () => {
  it('shows the figures, the flag, the verdict and the heatmap the core computed', async () => {
    vi.mocked(api.examStats).mockResolvedValue(stats);
    vi.mocked(api.exportFolder).mockResolvedValue('/home/t/Downloads/GradeDesk');
    renderPage();
    const card = await screen.findByTestId('stats-exam-card');
    expect(within(card).getByText('0.74')).toBeTruthy();
    const q1 = screen.getByTestId(`stats-q-${exam.questions[0]!.label}`);
    expect(q1.querySelector('[data-fig="mean"]')?.textContent).toBe('1.25');
    expect(q1.querySelector('[data-fig="exact"]')?.textContent).toBe('75%');
    expect(screen.getAllByText('low discrimination')).toHaveLength(1);
    expect(within(q1).getByText(/agrees closely/)).toBeTruthy();
    const cells = [...screen.getByTestId(`heatmap-${exam.questions[0]!.label}`).querySelectorAll('td')].map((td) => td.textContent);
    expect(cells).toEqual(['3', '1', '', '', '4', '1', '', '1', '2']);
    expect(screen.getAllByRole('table')).toHaveLength(1);
    expect(api.examStats).toHaveBeenCalledWith(exam.id);
  });

  it('exports the chosen format to the suggested file, and the PDFs to a folder', async () => {
    vi.mocked(api.examStats).mockResolvedValue(stats);
    vi.mocked(api.exportFolder).mockResolvedValue('/home/t/Downloads/GradeDesk');
    vi.mocked(api.exportGradebook).mockResolvedValue({ rows: 3, path: 'x' });
    vi.mocked(api.exportFeedback).mockResolvedValue({ students: 3, files: [], class_pdf: 'c.pdf' });
    renderPage();
    fireEvent.click(await screen.findByTestId('export-open'));
    fireEvent.change(screen.getByTestId('export-format'), { target: { value: 'moodle' } });
    await waitFor(() =>
      expect(screen.getByTestId<HTMLInputElement>('export-file').value).toBe(
        '/home/t/Downloads/GradeDesk/Physics-mid-term-moodle.csv',
      ),
    );
    fireEvent.click(screen.getByTestId('export-write'));
    await waitFor(() =>
      expect(api.exportGradebook).toHaveBeenCalledWith(exam.id, 'moodle', '/home/t/Downloads/GradeDesk/Physics-mid-term-moodle.csv'),
    );
    fireEvent.change(screen.getByTestId('export-folder'), { target: { value: '/tmp/pdfs' } });
    await waitFor(() => expect(screen.getByTestId<HTMLButtonElement>('export-pdfs').disabled).toBe(false));
    fireEvent.click(screen.getByTestId('export-pdfs'));
    await waitFor(() => expect(api.exportFeedback).toHaveBeenCalledWith(exam.id, '/tmp/pdfs'));
  });
});
