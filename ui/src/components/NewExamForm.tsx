import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useId, useState, type FormEvent } from 'react';
import { toast } from 'sonner';
import { createExam, errorMessage } from '../api';
import type { QuestionInput } from '../api/types';
import { parseQuestions, QUESTIONS_EXAMPLE } from '../lib/questions';
import { SNAPSHOT_QUERY_KEY } from '../live/useLive';

type Props = { onCreated: (examId: number) => void; onCancel: () => void };

export function NewExamForm({ onCreated, onCancel }: Props) {
  const id = useId();
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const [questions, setQuestions] = useState(QUESTIONS_EXAMPLE);
  const [problem, setProblem] = useState<string | null>(null);

  const create = useMutation({
    mutationFn: (args: { name: string; questions: QuestionInput[] }) =>
      createExam(args.name, args.questions),
    onSuccess: async (res, args) => {
      toast.success(`Exam “${args.name}” created`);
      await queryClient.invalidateQueries({ queryKey: SNAPSHOT_QUERY_KEY });
      onCreated(res.exam_id);
    },
    onError: (err) => setProblem(errorMessage(err)),
  });

  function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const trimmed = name.trim();
    if (trimmed === '') {
      setProblem('Give the exam a name.');
      return;
    }
    const parsed = parseQuestions(questions);
    if (!parsed.ok) {
      setProblem(parsed.error);
      return;
    }
    setProblem(null);
    create.mutate({ name: trimmed, questions: parsed.questions });
  }

  return (
    <form className="card new-exam" onSubmit={submit} data-testid="new-exam-form" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`} className="card-title">
        New exam
      </h2>
      <div className="field">
        <label htmlFor={`${id}-name`}>Name</label>
        <input
          id={`${id}-name`}
          data-testid="new-exam-name"
          value={name}
          onChange={(e) => setName(e.target.value)}
          placeholder="Physics mid-term, 10B"
          autoComplete="off"
          required
        />
      </div>
      <div className="field">
        <label htmlFor={`${id}-questions`}>Questions (JSON)</label>
        <textarea
          id={`${id}-questions`}
          data-testid="new-exam-questions"
          value={questions}
          onChange={(e) => setQuestions(e.target.value)}
          rows={10}
          spellCheck={false}
          aria-describedby={`${id}-help`}
        />
        <p id={`${id}-help`} className="hint">
          A list of questions, each with <code>label</code>, <code>prompt</code>,{' '}
          <code>max_points</code>, <code>rubric</code> and <code>reference_answer</code>.
        </p>
      </div>
      {problem !== null && (
        <p className="form-error" role="alert" data-testid="new-exam-error">
          {problem}
        </p>
      )}
      <div className="form-actions">
        <button type="button" className="btn btn-ghost" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="btn btn-primary" data-testid="new-exam-submit" disabled={create.isPending}>
          {create.isPending ? 'Creating…' : 'Create exam'}
        </button>
      </div>
    </form>
  );
}
