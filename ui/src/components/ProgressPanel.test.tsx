import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as api from '../api';
import { exam, progress, queueStatus } from '../test/fixtures';
import { ProgressPanel } from './ProgressPanel';

vi.mock('../api', async (importOriginal) => {
  const actual = await importOriginal<typeof api>();
  return { ...actual, pauseGrading: vi.fn(), resumeGrading: vi.fn() };
});
vi.mock('sonner', () => ({ toast: Object.assign(vi.fn(), { success: vi.fn(), error: vi.fn() }) }));

afterEach(() => {
  cleanup();
  vi.clearAllMocks();
});

describe('ProgressPanel', () => {
  it('shows counts, percent, rate and ETA overall and for the exam', () => {
    render(<ProgressPanel queue={queueStatus()} exams={[exam]} exam={exam} />);
    expect(screen.getByTestId('progress-overall-percent').textContent).toBe('50%');
    expect(screen.getByTestId('progress-overall-done').textContent).toBe('4 / 10');
    expect(screen.getByTestId('progress-overall-eta').textContent).toBe('under a minute');
    expect(screen.getByTestId('progress-exam-1')).toBeTruthy();
    expect(screen.getAllByText('6 / min')).toHaveLength(2);
    expect(screen.queryByTestId('queue-blockers')).toBeNull();
  });

  it('pauses and resumes all grading and one exam', async () => {
    vi.mocked(api.pauseGrading).mockResolvedValue(undefined);
    vi.mocked(api.resumeGrading).mockResolvedValue(true);
    const onChanged = vi.fn();
    const { rerender } = render(<ProgressPanel queue={queueStatus()} exams={[exam]} exam={exam} onChanged={onChanged} />);
    fireEvent.click(screen.getByTestId('pause-all'));
    await waitFor(() => expect(api.pauseGrading).toHaveBeenCalledWith());
    await waitFor(() => expect(onChanged).toHaveBeenCalled());
    fireEvent.click(screen.getByTestId('pause-exam'));
    await waitFor(() => expect(api.pauseGrading).toHaveBeenCalledWith(1));

    const paused = queueStatus({
      pauses: [
        { scope: { scope: 'all' }, reason: 'paused by the teacher', until_ms: null },
        { scope: { scope: 'exam', exam_id: 1 }, reason: 'paused by the teacher', until_ms: null },
      ],
    });
    rerender(<ProgressPanel queue={paused} exams={[exam]} exam={exam} onChanged={onChanged} />);
    expect(screen.getByTestId('queue-blockers').textContent).toContain('All grading is paused (paused by the teacher).');
    fireEvent.click(screen.getByTestId('resume-exam'));
    await waitFor(() => expect(api.resumeGrading).toHaveBeenCalledWith(1));
    fireEvent.click(screen.getByTestId('resume-all'));
    await waitFor(() => expect(api.resumeGrading).toHaveBeenCalledWith());
  });

  it('explains a halted queue and offers Resume', () => {
    render(
      <ProgressPanel
        queue={queueStatus({ halted: 'no API key is set', progress: [progress(null, { eta_seconds: null, per_minute: 0 })] })}
        exams={[exam]}
        exam={null}
      />,
    );
    expect(screen.getByTestId('queue-blockers').textContent).toContain('Grading has stopped: no API key is set');
    expect(screen.getByTestId('resume-all')).toBeTruthy();
    expect(screen.getByTestId('progress-overall-eta').textContent).toBe('–');
  });

  it('says when there is nothing to grade and renders names as text', () => {
    render(
      <ProgressPanel
        queue={queueStatus({ progress: [] })}
        exams={[{ ...exam, name: '<img src=x onerror=alert(1)>' }]}
        exam={{ ...exam, name: '<img src=x onerror=alert(1)>' }}
      />,
    );
    expect(screen.getByText(/Nothing to grade yet/)).toBeTruthy();
    expect(document.querySelector('img')).toBeNull();
  });
});
