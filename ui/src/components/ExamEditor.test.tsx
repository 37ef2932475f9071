import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import * as api from '../api';
import { CommandError } from '../api/errors';
import type { Exam } from '../api/types';
import { ExamEditor } from './ExamEditor';

vi.mock('sonner', () => ({ toast: Object.assign(vi.fn(), { success: vi.fn(), error: vi.fn() }) }));
vi.mock('../api', async (original) => ({
  ...(await original<typeof api>()),
  updateExam: vi.fn(),
  addQuestions: vi.fn(),
  updateQuestion: vi.fn(),
  deleteQuestion: vi.fn(),
}));

const exam: Exam = {
  id: 1,
  name: 'Physics',
  questions: [
    {
      id: 11,
      label: 'Q1',
      prompt: 'State Newton’s second law.',
      max_points: 2,
      rubric: '- F = ma (1 pt)\n- names each term (1 pt)',
      reference_answer: 'F = ma',
    },
    { id: 12, label: 'Q2', prompt: 'Define momentum.', max_points: 3, rubric: '', reference_answer: '' },
  ],
};

function renderEditor(onClose = vi.fn()) {
  const client = new QueryClient();
  render(
    <QueryClientProvider client={client}>
      <ExamEditor exam={exam} onClose={onClose} />
    </QueryClientProvider>,
  );
  return onClose;
}

const input = (testId: string) => screen.getByTestId<HTMLInputElement>(testId);

beforeEach(() => vi.clearAllMocks());
afterEach(cleanup);

describe('ExamEditor', () => {
  it('is a labelled dialog that starts on the name and closes with Escape', () => {
    const onClose = renderEditor();
    const dialog = screen.getByRole('dialog', { name: 'Edit exam' });
    expect(dialog.getAttribute('aria-modal')).toBe('true');
    expect(document.activeElement).toBe(screen.getByLabelText('Exam name'));
    fireEvent.keyDown(dialog, { key: 'Escape' });
    expect(onClose).toHaveBeenCalled();
  });

  it('renames the exam', async () => {
    vi.mocked(api.updateExam).mockResolvedValue(undefined);
    renderEditor();
    fireEvent.change(screen.getByLabelText('Exam name'), { target: { value: '  Physics 10B ' } });
    fireEvent.click(screen.getByTestId('exam-name-save'));
    await waitFor(() => expect(api.updateExam).toHaveBeenCalledWith(1, 'Physics 10B'));
  });

  it('shows rubric lines with their points and saves an edited question', async () => {
    vi.mocked(api.updateQuestion).mockResolvedValue(exam.questions[0]!);
    renderEditor();
    expect(input('rubric-text-0').value).toBe('F = ma');
    expect(input('rubric-points-1').value).toBe('1');
    expect(screen.getByTestId('rubric-total').textContent).toBe('Lines add up to 2 of 2 points');
    fireEvent.change(screen.getByLabelText('Max points'), { target: { value: '3' } });
    fireEvent.click(screen.getByTestId('add-rubric-line'));
    fireEvent.change(input('rubric-text-2'), { target: { value: 'units' } });
    fireEvent.change(input('rubric-points-2'), { target: { value: '1' } });
    fireEvent.change(screen.getByLabelText('Reference answer'), { target: { value: 'F = m a, in newtons' } });
    fireEvent.click(screen.getByTestId('question-save'));
    await waitFor(() =>
      expect(api.updateQuestion).toHaveBeenCalledWith(11, {
        label: 'Q1',
        prompt: 'State Newton’s second law.',
        max_points: 3,
        rubric: '- F = ma (1 pt)\n- names each term (1 pt)\n- units (1 pt)',
        reference_answer: 'F = m a, in newtons',
      }),
    );
  });

  it('shows the core’s refusal as a sentence (deleting an answered question)', async () => {
    vi.mocked(api.deleteQuestion).mockRejectedValue(
      new CommandError('invalid', 'Q1 cannot be deleted: 3 answers are boxed for it, and their grades would be lost. Edit the question instead'),
    );
    renderEditor();
    fireEvent.click(screen.getByTestId('question-delete'));
    fireEvent.click(screen.getByTestId('question-delete-confirm'));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('Q1 cannot be deleted: 3 answers are boxed for it');
  });

  it('adds a new question with the next free label and checks it first', async () => {
    vi.mocked(api.addQuestions).mockResolvedValue([{ ...exam.questions[1]!, id: 13, label: 'Q3' }]);
    renderEditor();
    fireEvent.click(screen.getByTestId('add-question'));
    expect(input('question-label').value).toBe('Q3');
    fireEvent.click(screen.getByTestId('question-save'));
    expect((await screen.findByRole('alert')).textContent).toBe('Write the question Q3 asks.');
    fireEvent.change(screen.getByLabelText('Question'), { target: { value: 'Define impulse.' } });
    fireEvent.change(screen.getByLabelText('Max points'), { target: { value: '1,5' } });
    fireEvent.click(screen.getByTestId('question-save'));
    await waitFor(() =>
      expect(api.addQuestions).toHaveBeenCalledWith(1, [
        { label: 'Q3', prompt: 'Define impulse.', max_points: 1.5, rubric: '', reference_answer: '' },
      ]),
    );
  });

  it('imports questions from a JSON file', async () => {
    vi.mocked(api.addQuestions).mockResolvedValue([]);
    renderEditor();
    const file = new File(['[{"prompt":"Define work.","max_points":2,"rubric":[{"text":"W = Fd","points":2}]}]'], 'more.json', {
      type: 'application/json',
    });
    fireEvent.change(screen.getByTestId('import-questions'), { target: { files: [file] } });
    await waitFor(() =>
      expect(api.addQuestions).toHaveBeenCalledWith(1, [
        { label: 'Q3', prompt: 'Define work.', max_points: 2, rubric: '- W = Fd (2 pts)', reference_answer: '' },
      ]),
    );
  });

  it('explains a bad questions file without calling the core', async () => {
    renderEditor();
    const file = new File(['{oops'], 'bad.json');
    fireEvent.change(screen.getByTestId('import-questions'), { target: { files: [file] } });
    expect((await screen.findByRole('alert')).textContent).toContain('bad.json: The questions are not valid JSON');
    expect(api.addQuestions).not.toHaveBeenCalled();
  });
});
