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
  regradeQuestion: vi.fn(),
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
      rubric: 'accept a = F/m',
      reference_answer: 'F = ma',
      scoring: 'positive',
      items: [
        { id: 41, text: 'F = ma', points: 1 },
        { id: 42, text: 'names each term', points: 1 },
      ],
    },
    { id: 12, label: 'Q2', prompt: 'Define momentum.', max_points: 3, rubric: '', reference_answer: '', scoring: 'positive', items: [] },
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

  it('shows rubric items with their points and saves an edited question, ids kept', async () => {
    vi.mocked(api.updateQuestion).mockResolvedValue({
      question: exam.questions[0]!,
      change: { added: 1, removed: 0, repointed: 0, rescored: [], graded_before: 12 },
      regrade: { question_label: 'Q1', answers: 12, estimated_usd: 0.0031, double_grading: false },
    });
    vi.mocked(api.regradeQuestion).mockResolvedValue(12);
    renderEditor();
    expect(input('rubric-text-0').value).toBe('F = ma');
    expect(input('rubric-points-1').value).toBe('1');
    expect(screen.getByTestId('rubric-total').textContent).toBe('Items add up to 2 of 2 points');
    expect(screen.getByTestId<HTMLTextAreaElement>('question-notes').value).toBe('accept a = F/m');
    fireEvent.change(screen.getByLabelText('Max points'), { target: { value: '3' } });
    fireEvent.change(input('rubric-points-1'), { target: { value: '1,5' } });
    fireEvent.click(screen.getByTestId('add-rubric-line'));
    fireEvent.change(input('rubric-text-2'), { target: { value: 'wrong units' } });
    fireEvent.change(input('rubric-points-2'), { target: { value: '-0.5' } });
    fireEvent.change(screen.getByLabelText('Reference answer'), { target: { value: 'F = m a, in newtons' } });
    fireEvent.click(screen.getByTestId('question-save'));
    await waitFor(() =>
      expect(api.updateQuestion).toHaveBeenCalledWith(11, {
        label: 'Q1',
        prompt: 'State Newton’s second law.',
        max_points: 3,
        rubric: 'accept a = F/m',
        reference_answer: 'F = m a, in newtons',
        scoring: 'positive',
        items: [
          { id: 41, text: 'F = ma', points: 1 },
          { id: 42, text: 'names each term', points: 1.5 },
          { text: 'wrong units', points: -0.5 },
        ],
      }),
    );
    // A new item on a graded question: grading it again is offered with its cost.
    const offer = await screen.findByTestId('regrade-offer');
    expect(offer.textContent).toContain('12 graded answers');
    expect(offer.textContent).toContain('$0.0031');
    fireEvent.click(screen.getByTestId('regrade-confirm'));
    await waitFor(() => expect(api.regradeQuestion).toHaveBeenCalledWith(11));
    expect(screen.queryByTestId('regrade-offer')).toBeNull();
  });

  it('refuses an item worth more than the question, and saves negative scoring', async () => {
    vi.mocked(api.updateQuestion).mockResolvedValue({
      question: exam.questions[0]!,
      change: { added: 0, removed: 0, repointed: 1, rescored: [5, 6], graded_before: 0 },
      regrade: null,
    });
    renderEditor();
    fireEvent.change(input('rubric-points-0'), { target: { value: '5' } });
    fireEvent.click(screen.getByTestId('question-save'));
    expect((await screen.findByRole('alert')).textContent).toBe(
      'Rubric item 1 of Q1: its points must be a number from −2 to 2 (negative to deduct).',
    );
    expect(api.updateQuestion).not.toHaveBeenCalled();
    fireEvent.change(screen.getByTestId('question-scoring'), { target: { value: 'negative' } });
    fireEvent.change(input('rubric-points-0'), { target: { value: '-1' } });
    fireEvent.change(input('rubric-points-1'), { target: { value: '-0.5' } });
    expect(screen.getByTestId('rubric-total').textContent).toBe('Deductions add up to 1.5 of 2 points');
    fireEvent.click(screen.getByTestId('question-save'));
    await waitFor(() =>
      expect(api.updateQuestion).toHaveBeenCalledWith(
        11,
        expect.objectContaining({
          scoring: 'negative',
          items: [
            { id: 41, text: 'F = ma', points: -1 },
            { id: 42, text: 'names each term', points: -0.5 },
          ],
        }),
      ),
    );
    expect(screen.queryByTestId('regrade-offer')).toBeNull();
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
        { label: 'Q3', prompt: 'Define impulse.', max_points: 1.5, rubric: '', reference_answer: '', scoring: 'positive', items: [] },
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
        {
          label: 'Q3',
          prompt: 'Define work.',
          max_points: 2,
          rubric: '',
          reference_answer: '',
          scoring: 'positive',
          items: [{ text: 'W = Fd', points: 2 }],
        },
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
