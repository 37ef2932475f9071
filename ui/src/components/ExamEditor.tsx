import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useId, useRef, useState, type ChangeEvent, type FormEvent, type KeyboardEvent } from 'react';
import { toast } from 'sonner';
import { addQuestions, deleteQuestion, errorMessage, regradeQuestion, updateExam, updateQuestion } from '../api';
import type { Exam, Question, QuestionInput, RegradeOffer, RubricChange } from '../api/types';
import { formatCost } from '../lib/batches';
import { formatPoints, pluralize } from '../lib/format';
import { draftFrom, draftToInput, nextLabel, type QuestionDraft } from '../lib/questionDraft';
import { parseQuestions, QUESTIONS_FORMAT_HELP } from '../lib/questions';
import { SNAPSHOT_QUERY_KEY } from '../live/useLive';

type Props = { exam: Exam; onClose: () => void };

/** A chosen file's text (FileReader: older webviews lack `Blob.text`). */
function readText(file: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(typeof reader.result === 'string' ? reader.result : '');
    reader.onerror = () => reject(new Error('The file could not be read.'));
    reader.readAsText(file);
  });
}

/** What an edit did to the answers, after "Q1 saved". */
function changeText(change: RubricChange): string {
  const n = change.rescored.length;
  return n === 0 ? '' : `: ${pluralize(n, 'answer')} re-scored from the edited items (no model call)`;
}

/** "new" edits a question not stored yet; a number edits that stored question. */
type Selection = number | 'new';

/**
 * The exam editor: the exam's name, its questions (prompt, points, rubric lines with their
 * points, reference answer), adding, deleting and importing questions from a JSON file. A
 * modal dialog: Escape closes it, focus starts on the name and returns to the opener.
 */
export function ExamEditor({ exam, onClose }: Props) {
  const id = useId();
  const client = useQueryClient();
  const dialogRef = useRef<HTMLDivElement>(null);
  const nameRef = useRef<HTMLInputElement>(null);
  const [name, setName] = useState(exam.name);
  const [selection, setSelection] = useState<Selection>(exam.questions[0]?.id ?? 'new');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  /** Items were added to a question with graded answers: grading it again is offered. */
  const [offer, setOffer] = useState<{ questionId: number; offer: RegradeOffer } | null>(null);
  const offerRef = useRef<HTMLDivElement>(null);
  // The offer appears at the top of the dialog, which the Save button may have scrolled past.
  useEffect(() => {
    if (offer !== null) offerRef.current?.scrollIntoView?.({ block: 'nearest' });
  }, [offer]);
  const selected = selection === 'new' ? null : (exam.questions.find((q) => q.id === selection) ?? null);

  useEffect(() => {
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    nameRef.current?.focus();
    return () => opener?.focus();
  }, []);

  // Escape closes the dialog wherever focus is (a button that just got disabled drops it).
  useEffect(() => {
    const onKey = (e: globalThis.KeyboardEvent) => {
      if (e.key === 'Escape') onClose();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onClose]);

  const refresh = () => client.invalidateQueries({ queryKey: SNAPSHOT_QUERY_KEY });

  async function run<T>(action: () => Promise<T>, done: (value: T) => string): Promise<T | null> {
    setBusy(true);
    setProblem(null);
    try {
      const value = await action();
      toast.success(done(value), { id: `exam-editor-${exam.id}` });
      await refresh();
      return value;
    } catch (err) {
      setProblem(errorMessage(err));
      return null;
    } finally {
      setBusy(false);
    }
  }

  function saveName(e: FormEvent) {
    e.preventDefault();
    if (name.trim() === '') {
      setProblem('Give the exam a name.');
      return;
    }
    void run(() => updateExam(exam.id, name.trim()), () => `Exam renamed “${name.trim()}”`);
  }

  async function importFile(e: ChangeEvent<HTMLInputElement>) {
    const file = e.currentTarget.files?.[0];
    e.currentTarget.value = '';
    if (file === undefined) return;
    let text: string;
    try {
      text = await readText(file);
    } catch {
      setProblem(`${file.name} could not be read.`);
      return;
    }
    const parsed = parseQuestions(text, exam.questions.length + 1);
    if (!parsed.ok) {
      setProblem(`${file.name}: ${parsed.error}`);
      return;
    }
    const added = await run(
      () => addQuestions(exam.id, parsed.questions),
      (qs) => `${pluralize(qs.length, 'question')} imported from ${file.name}`,
    );
    if (added && added[0]) setSelection(added[0].id);
  }

  function onKeyDown(e: KeyboardEvent<HTMLDivElement>) {
    if (e.key === 'Tab') {
      // Keep focus inside the dialog.
      const focusable = dialogRef.current?.querySelectorAll<HTMLElement>(
        'button:not([disabled]), input:not([disabled]), textarea, select, [tabindex="0"]',
      );
      if (!focusable || focusable.length === 0) return;
      const first = focusable[0]!;
      const last = focusable[focusable.length - 1]!;
      if (e.shiftKey && document.activeElement === first) {
        e.preventDefault();
        last.focus();
      } else if (!e.shiftKey && document.activeElement === last) {
        e.preventDefault();
        first.focus();
      }
    }
  }

  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div
        ref={dialogRef}
        className="modal exam-editor"
        role="dialog"
        aria-modal="true"
        aria-labelledby={`${id}-title`}
        data-testid="exam-editor"
        onKeyDown={onKeyDown}
      >
        <div className="modal-head">
          <h2 id={`${id}-title`} className="card-title">
            Edit exam
          </h2>
          <button type="button" className="btn btn-ghost btn-small" onClick={onClose} data-testid="exam-editor-close">
            Close
          </button>
        </div>
        <form className="editor-name" onSubmit={saveName}>
          <div className="field field-grow">
            <label htmlFor={`${id}-name`}>Exam name</label>
            <input
              id={`${id}-name`}
              ref={nameRef}
              data-testid="exam-name"
              value={name}
              onChange={(e) => setName(e.target.value)}
              autoComplete="off"
            />
          </div>
          <button type="submit" className="btn" disabled={busy || name.trim() === exam.name} data-testid="exam-name-save">
            Save name
          </button>
        </form>
        {problem !== null && (
          <p className="form-error" role="alert" data-testid="exam-editor-error">
            {problem}
          </p>
        )}
        {offer !== null && (
          <div ref={offerRef} className="banner regrade-offer" role="status" data-testid="regrade-offer">
            <p>
              {offer.offer.question_label} has new rubric items, which {pluralize(offer.offer.answers, 'graded answer')} did not
              have when graded. Grading {offer.offer.answers === 1 ? 'it' : 'them'} again applies the new items
              {offer.offer.estimated_usd === null ? '' : `, for about ${formatCost(offer.offer.estimated_usd)}`}
              {offer.offer.double_grading ? ' (each graded twice on this exam)' : ''}.
            </p>
            <button
              type="button"
              className="btn btn-small"
              data-testid="regrade-confirm"
              disabled={busy}
              onClick={() => {
                const { questionId, offer: o } = offer;
                setOffer(null);
                void run(
                  () => regradeQuestion(questionId),
                  (n) => `${pluralize(n, 'answer')} of ${o.question_label} queued to grade again`,
                );
              }}
            >
              Grade {offer.offer.question_label} again
            </button>
            <button type="button" className="btn btn-small btn-ghost" data-testid="regrade-dismiss" onClick={() => setOffer(null)}>
              Not now
            </button>
          </div>
        )}
        <div className="editor-grid">
          <nav className="editor-questions" aria-label="Questions">
            <ul>
              {exam.questions.map((q) => (
                <li key={q.id}>
                  <button
                    type="button"
                    className={`editor-question${selection === q.id ? ' is-selected' : ''}`}
                    aria-current={selection === q.id ? 'true' : undefined}
                    data-testid={`edit-question-${q.label}`}
                    onClick={() => setSelection(q.id)}
                  >
                    <strong>{q.label}</strong> <span className="muted">{formatPoints(q.max_points)} pts</span>
                    <span className="editor-question-prompt">{q.prompt}</span>
                  </button>
                </li>
              ))}
            </ul>
            <button
              type="button"
              className={`btn btn-small${selection === 'new' ? ' is-selected' : ''}`}
              data-testid="add-question"
              onClick={() => setSelection('new')}
            >
              + Add question
            </button>
            <label className="btn btn-small btn-ghost file-button" htmlFor={`${id}-import`}>
              <input
                id={`${id}-import`}
                className="visually-hidden"
                type="file"
                accept=".json,application/json"
                data-testid="import-questions"
                onChange={(e) => void importFile(e)}
                disabled={busy}
                aria-describedby={`${id}-format`}
              />
              Import questions (JSON)…
            </label>
            <p id={`${id}-format`} className="hint">
              {QUESTIONS_FORMAT_HELP}
            </p>
          </nav>
          <QuestionForm
            key={selection}
            question={selected}
            label={nextLabel(exam.questions)}
            busy={busy}
            onSave={async (input) => {
              if (selected === null) {
                const added = await run(() => addQuestions(exam.id, [input]), () => `${input.label} added`);
                if (added && added[0]) setSelection(added[0].id);
              } else {
                const edited = await run(
                  () => updateQuestion(selected.id, input),
                  (e) => `${input.label} saved${changeText(e.change)}`,
                );
                setOffer(edited?.regrade ? { questionId: selected.id, offer: edited.regrade } : null);
              }
            }}
            onDelete={async () => {
              if (selected === null) return;
              const gone = await run(() => deleteQuestion(selected.id), () => `${selected.label} deleted`);
              if (gone !== null) setSelection(exam.questions.find((q) => q.id !== selected.id)?.id ?? 'new');
            }}
            onProblem={setProblem}
          />
        </div>
      </div>
    </div>
  );
}

type FormProps = {
  question: Question | null;
  label: string;
  busy: boolean;
  onSave: (input: QuestionInput) => Promise<void>;
  onDelete: () => Promise<void>;
  onProblem: (problem: string | null) => void;
};

function QuestionForm({ question, label, busy, onSave, onDelete, onProblem }: FormProps) {
  const id = useId();
  const [draft, setDraft] = useState<QuestionDraft>(() => draftFrom(question, label));
  const [confirming, setConfirming] = useState(false);
  const set = (patch: Partial<QuestionDraft>) => setDraft((d) => ({ ...d, ...patch }));
  const setLine = (k: number, patch: Partial<QuestionDraft['rubric'][number]>) =>
    setDraft((d) => ({ ...d, rubric: d.rubric.map((l, j) => (j === k ? { ...l, ...patch } : l)) }));
  const checked = draftToInput(draft);
  const max = Number(draft.maxPoints.replace(',', '.'));
  const total = checked.ok ? checked.rubricTotal : null;

  function submit(e: FormEvent) {
    e.preventDefault();
    const res = draftToInput(draft);
    if (!res.ok) {
      onProblem(res.error);
      return;
    }
    void onSave(res.input);
  }

  return (
    <form className="editor-form" onSubmit={submit} data-testid="question-form" aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`} className="editor-form-title">
        {question === null ? 'New question' : `Question ${question.label}`}
      </h3>
      <div className="editor-row">
        <div className="field">
          <label htmlFor={`${id}-label`}>Label</label>
          <input id={`${id}-label`} data-testid="question-label" value={draft.label} onChange={(e) => set({ label: e.target.value })} autoComplete="off" />
        </div>
        <div className="field">
          <label htmlFor={`${id}-max`}>Max points</label>
          <input
            id={`${id}-max`}
            data-testid="question-max"
            inputMode="decimal"
            value={draft.maxPoints}
            onChange={(e) => set({ maxPoints: e.target.value })}
            autoComplete="off"
          />
        </div>
      </div>
      <div className="field">
        <label htmlFor={`${id}-prompt`}>Question</label>
        <textarea id={`${id}-prompt`} data-testid="question-prompt" rows={3} value={draft.prompt} onChange={(e) => set({ prompt: e.target.value })} />
      </div>
      <fieldset className="rubric">
        <legend>Rubric items</legend>
        <div className="field field-inline rubric-scoring">
          <label htmlFor={`${id}-scoring`}>Scoring</label>
          <select
            id={`${id}-scoring`}
            data-testid="question-scoring"
            value={draft.scoring}
            onChange={(e) => set({ scoring: e.target.value === 'negative' ? 'negative' : 'positive' })}
          >
            <option value="positive">Positive: start at 0, items add points</option>
            <option value="negative">Negative: start at full marks, items deduct</option>
          </select>
        </div>
        <p className="hint">
          The AI names the items an answer meets; GradeDesk adds their points (kept within 0 and the question&rsquo;s points).
          Give an item negative points to deduct. Editing an item&rsquo;s points re-scores every answer that has it.
        </p>
        {draft.rubric.map((line, k) => (
          <div className="rubric-line" key={line.id ?? `new-${k}`} data-testid={`rubric-line-${k}`}>
            <span className="rubric-key" aria-hidden="true">
              {k + 1}
            </span>
            <label className="visually-hidden" htmlFor={`${id}-rt-${k}`}>
              Rubric item {k + 1}
            </label>
            <input
              id={`${id}-rt-${k}`}
              data-testid={`rubric-text-${k}`}
              value={line.text}
              placeholder={draft.scoring === 'negative' ? 'What loses points' : 'What earns the points'}
              onChange={(e) => setLine(k, { text: e.target.value })}
              autoComplete="off"
            />
            <label className="visually-hidden" htmlFor={`${id}-rp-${k}`}>
              Points for rubric item {k + 1}
            </label>
            <input
              id={`${id}-rp-${k}`}
              className="rubric-points"
              data-testid={`rubric-points-${k}`}
              inputMode="decimal"
              value={line.points}
              placeholder={draft.scoring === 'negative' ? '−pts' : 'pts'}
              onChange={(e) => setLine(k, { points: e.target.value })}
              autoComplete="off"
            />
            <button
              type="button"
              className="btn btn-ghost btn-small"
              aria-label={`Remove rubric item ${k + 1}`}
              onClick={() => setDraft((d) => ({ ...d, rubric: d.rubric.filter((_, j) => j !== k) }))}
            >
              ✕
            </button>
          </div>
        ))}
        <div className="rubric-foot">
          <button
            type="button"
            className="btn btn-ghost btn-small"
            data-testid="add-rubric-line"
            onClick={() => setDraft((d) => ({ ...d, rubric: [...d.rubric, { text: '', points: '' }] }))}
          >
            + Rubric item
          </button>
          {total !== null && total > 0 && (
            <span className={total >= max ? 'muted small' : 'warn small'} data-testid="rubric-total">
              {draft.scoring === 'negative' ? 'Deductions add up to' : 'Items add up to'} {formatPoints(total)} of{' '}
              {Number.isFinite(max) ? formatPoints(max) : '?'} points
            </span>
          )}
        </div>
        <div className="field">
          <label htmlFor={`${id}-notes`}>Notes for the grader (optional)</label>
          <textarea
            id={`${id}-notes`}
            data-testid="question-notes"
            rows={2}
            value={draft.notes}
            placeholder="e.g. accept g = 9.8 or 10 m/s²"
            onChange={(e) => set({ notes: e.target.value })}
          />
        </div>
      </fieldset>
      <div className="field">
        <label htmlFor={`${id}-ref`}>Reference answer</label>
        <textarea id={`${id}-ref`} data-testid="question-reference" rows={3} value={draft.referenceAnswer} onChange={(e) => set({ referenceAnswer: e.target.value })} />
      </div>
      <p className="hint">
        Item edits re-score the answers already graded at once. Other edits apply to answers graded from now on, queued ones
        included.
      </p>
      <div className="form-actions">
        {question !== null &&
          (confirming ? (
            <>
              <button type="button" className="btn btn-ghost" onClick={() => setConfirming(false)}>
                Keep it
              </button>
              <button
                type="button"
                className="btn btn-danger"
                data-testid="question-delete-confirm"
                disabled={busy}
                onClick={() => {
                  setConfirming(false);
                  void onDelete();
                }}
              >
                Delete {question.label} for good
              </button>
            </>
          ) : (
            <button type="button" className="btn btn-ghost" data-testid="question-delete" onClick={() => setConfirming(true)}>
              Delete question
            </button>
          ))}
        <button type="submit" className="btn btn-primary" data-testid="question-save" disabled={busy}>
          {question === null ? 'Add question' : 'Save question'}
        </button>
      </div>
    </form>
  );
}
