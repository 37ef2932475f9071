import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import { toast } from 'sonner';
import {
  acceptAnswer,
  addOutsideWriting,
  cropImageUrl,
  dismissOutsideWriting,
  errorMessage,
  overrideScore,
  pageImageUrl,
  reviewItems,
  setAnswerItems,
  setTranscription,
} from '../api';
import type { Exam, OutsideWriting, Question, ReviewRow } from '../api/types';
import { RoutingPanel } from '../components/RoutingPanel';
import { loadAnonymous, reviewName, saveAnonymous } from '../lib/anonymous';
import { formatPoints, STATE_LABEL } from '../lib/format';
import { chosenItems, itemForKey, ROUTE_LABEL, signedPoints, toggleItem } from '../lib/reviewItems';
import { applyScoreKey, parsePending, scoreProblem } from '../lib/scoreInput';
import { useLiveData } from '../live/LiveContext';

export const reviewQueryKey = (examId: number, label: string) => ['review', examId, label] as const;

type Props = {
  exam: Exam | null;
  /** Every exam, for the exam picker (optional). */
  exams?: Exam[];
  onSelectExam?: (examId: number) => void;
  onBack: () => void;
  /** Row height estimate; tests may pass a viewport for the virtual list. */
  initialRect?: { width: number; height: number };
};

function formatConfidence(c: number | null): string {
  if (c === null || !Number.isFinite(c)) return '–';
  return `${Math.round(c * 100)}%`;
}

/** "12 Mar, 14:05": when a grade or override was given. */
export function formatWhen(ms: number): string {
  return new Date(ms).toLocaleString(undefined, { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
}

function scoreText(score: number | null, max: number): string {
  return `${score === null ? '–' : formatPoints(score)} / ${formatPoints(max)}`;
}

/** One question's answers across the class, side by side, graded with the keyboard. */
export function ReviewPage({ exam, exams = [], onSelectExam, onBack, initialRect }: Props) {
  const id = useId();
  const [label, setLabel] = useState<string>(exam?.questions[0]?.label ?? '');
  /** The selected answer, by id: a decision re-sorts the list (reviewed answers go after
   * those still waiting), and the teacher stays on the answer they were deciding. */
  const [selectedId, setSelectedId] = useState<number | null>(null);
  const [pending, setPending] = useState('');
  const [note, setNote] = useState('');
  const [saving, setSaving] = useState(false);
  const [anonymous, setAnonymous] = useState(() => loadAnonymous());
  const listRef = useRef<HTMLDivElement>(null);
  const client = useQueryClient();
  const { snapshot } = useLiveData();
  const graded = snapshot?.counts.succeeded ?? 0;

  const examId = exam?.id ?? -1;
  const query = useQuery({
    queryKey: reviewQueryKey(examId, label),
    queryFn: () => reviewItems(examId, label),
    enabled: exam !== null && label !== '',
  });
  const { refetch } = query;
  // New grades arrive while the teacher reviews: refresh the list.
  useEffect(() => {
    if (exam !== null && label !== '') void refetch();
  }, [graded, exam, label, refetch]);

  const rows = query.data ?? [];
  const found = rows.findIndex((r) => r.item_id === selectedId);
  const selected = found >= 0 ? found : 0;
  const setSelected = (index: number) => setSelectedId(rows[index]?.item_id ?? null);
  const current: ReviewRow | undefined = rows[selected];

  // The virtualizer's functions change identity on purpose; nothing here memoizes them.
  // eslint-disable-next-line react-hooks/incompatible-library
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => listRef.current,
    estimateSize: () => 184,
    overscan: 4,
    initialRect,
  });

  const move = (delta: number) => {
    if (rows.length === 0) return;
    const next = Math.max(0, Math.min(rows.length - 1, selected + delta));
    setSelected(next);
    setPending('');
    setNote('');
    virtualizer.scrollToIndex(next, { align: 'auto' });
  };

  const question: Question | undefined = exam?.questions.find((q) => q.label === label);
  const hasItems = (question?.items.length ?? 0) > 0;

  /** Runs one of the teacher's decisions, refreshes the list and the routing, says what it did. */
  const decide = async (row: ReviewRow, action: () => Promise<{ score: number }>, next: boolean) => {
    // The answer decided stays selected when the list re-sorts.
    setSelectedId(row.item_id);
    setSaving(true);
    try {
      const done = await action();
      setPending('');
      setNote('');
      await client.invalidateQueries({ queryKey: reviewQueryKey(examId, label) });
      await client.invalidateQueries({ queryKey: ['routing', examId] });
      toast.success(`${reviewName(row.student, row.submission_id, anonymous)}: ${formatPoints(done.score)} / ${formatPoints(row.max_points)} saved.`, {
        id: 'review-score',
      });
      if (next) move(1);
    } catch (err) {
      toast.error(errorMessage(err), { id: 'review-score-error', duration: 8000 });
    } finally {
      setSaving(false);
    }
  };

  const noteArg = () => (note.trim() === '' ? undefined : note.trim());

  const save = (row: ReviewRow, score: number) => {
    const problem = scoreProblem(score, row.max_points);
    if (problem !== null) {
      toast.error(problem, { id: 'review-score' });
      return;
    }
    void decide(row, () => overrideScore(row.item_id, score, noteArg()), true);
  };

  /** Saves the typed score, else accepts the AI's grade as it stands. */
  const accept = (row: ReviewRow) => {
    const typed = parsePending(pending);
    if (typed !== null) {
      save(row, typed);
      return;
    }
    if (row.ai_score === null) {
      toast.error('This answer has no AI score yet: type a score first.', { id: 'review-score' });
      return;
    }
    if (note.trim() !== '') {
      // A note goes with a score: keep the current one and record the note beside it.
      save(row, row.score ?? row.ai_score);
      return;
    }
    void decide(row, () => acceptAnswer(row.item_id), true);
  };

  /** Switches a rubric item on or off for the answer; the core adds the points up. */
  const toggle = (row: ReviewRow, rubricItemId: number) => {
    if (question === undefined) return;
    const ids = toggleItem(question, chosenItems(row), rubricItemId);
    void decide(row, () => setAnswerItems(row.item_id, ids, noteArg()), false);
  };

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    if (e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement || e.target instanceof HTMLTextAreaElement) return;
    const rubricItem = hasItems ? itemForKey(question, e.key) : null;
    if (e.key === 'j' || e.key === 'ArrowDown') {
      e.preventDefault();
      move(1);
    } else if (e.key === 'k' || e.key === 'ArrowUp') {
      e.preventDefault();
      move(-1);
    } else if (e.key === 'Enter' || e.key === 'a') {
      if (current && !saving) {
        e.preventDefault();
        accept(current);
      }
    } else if (e.key === 'Escape') {
      setPending('');
    } else if (hasItems) {
      if (rubricItem !== null && current && !saving) {
        e.preventDefault();
        toggle(current, rubricItem);
      }
    } else {
      const next = applyScoreKey(pending, e.key);
      if (next !== null) {
        e.preventDefault();
        setPending(next);
      }
    }
  };

  if (exam === null) {
    return (
      <div className="page">
        <p className="empty">Create an exam first: there is nothing to review yet.</p>
      </div>
    );
  }

  return (
    <div className="page review-page">
      <section className="toolbar" aria-label="Review">
        <button type="button" className="btn btn-ghost" onClick={onBack}>
          ← Exams
        </button>
        <h1 className="page-title">Review</h1>
        {exams.length > 1 && onSelectExam !== undefined ? (
          <div className="field field-inline">
            <label htmlFor={`${id}-exam`}>Exam</label>
            <select
              id={`${id}-exam`}
              data-testid="review-exam"
              value={exam.id}
              onChange={(e) => onSelectExam(Number(e.target.value))}
            >
              {exams.map((x) => (
                <option key={x.id} value={x.id}>
                  {x.name}
                </option>
              ))}
            </select>
          </div>
        ) : (
          <span className="review-exam-name">{exam.name}</span>
        )}
        <div className="field field-inline">
          <label htmlFor={`${id}-q`}>Question</label>
          <select
            id={`${id}-q`}
            data-testid="review-question"
            value={label}
            onChange={(e) => {
              setLabel(e.target.value);
              setSelectedId(null);
              setPending('');
            }}
          >
            {exam.questions.map((q) => (
              <option key={q.id} value={q.label}>
                {q.label} ({formatPoints(q.max_points)} pts)
              </option>
            ))}
          </select>
        </div>
        <label className="field-inline anonymous-toggle">
          <input
            type="checkbox"
            data-testid="review-anonymous"
            checked={anonymous}
            onChange={(e) => {
              setAnonymous(e.target.checked);
              saveAnonymous(e.target.checked);
            }}
          />
          Hide names
        </label>
        <div className="toolbar-spacer" />
        <p className="muted small keys-help" id={`${id}-help`}>
          <kbd>j</kbd>/<kbd>k</kbd> move ·{' '}
          {hasItems ? (
            <>
              {(question?.items.length ?? 1) > 1 ? (
                <>
                  <kbd>1</kbd>–<kbd>{Math.min(9, question?.items.length ?? 1)}</kbd>
                </>
              ) : (
                <kbd>1</kbd>
              )}{' '}
              toggle a rubric item ·{' '}
            </>
          ) : (
            <>
              <kbd>0</kbd>–<kbd>9</kbd>, <kbd>.</kbd> type a score ·{' '}
            </>
          )}
          <kbd>a</kbd>/<kbd>Enter</kbd> accept · <kbd>Esc</kbd> clear
        </p>
      </section>
      {label !== '' && <RoutingPanel examId={exam.id} label={label} />}

      {query.isError ? (
        <p className="banner banner-error" role="alert">
          {errorMessage(query.error)}
        </p>
      ) : query.isLoading ? (
        <p className="empty">Loading answers…</p>
      ) : rows.length === 0 ? (
        <p className="empty">No answers to {label} are boxed yet.</p>
      ) : (
        <div
          ref={listRef}
          className="review-list"
          data-testid="review-list"
          tabIndex={0}
          role="listbox"
          aria-label={`Answers to ${label}`}
          aria-describedby={`${id}-help`}
          aria-activedescendant={current ? `${id}-row-${current.item_id}` : undefined}
          onKeyDown={onKeyDown}
        >
          <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
            {virtualizer.getVirtualItems().map((v) => {
              const row = rows[v.index]!;
              return (
                <div
                  key={row.item_id}
                  data-index={v.index}
                  ref={virtualizer.measureElement}
                  style={{ position: 'absolute', top: 0, left: 0, right: 0, transform: `translateY(${v.start}px)` }}
                >
                  <ReviewCard
                    domId={`${id}-row-${row.item_id}`}
                    row={row}
                    question={question}
                    saving={saving}
                    onToggle={(rubricItemId) => {
                      setSelected(v.index);
                      toggle(row, rubricItemId);
                    }}
                    onScore={(score) => save(row, score)}
                    anonymous={anonymous}
                    selected={v.index === selected}
                    pending={v.index === selected ? pending : ''}
                    note={v.index === selected ? note : ''}
                    onNote={setNote}
                    onNoteDone={(save) => {
                      listRef.current?.focus();
                      if (save) accept(row);
                    }}
                    onSelect={() => {
                      if (v.index !== selected) {
                        setSelected(v.index);
                        setPending('');
                        setNote('');
                      }
                      listRef.current?.focus();
                    }}
                    onAccept={() => {
                      setSelected(v.index);
                      accept(row);
                    }}
                  />
                </div>
              );
            })}
          </div>
        </div>
      )}
    </div>
  );
}

/** Each piece of writing outside the boxes, shown from the page's preview, with the button
 * that adds it to this answer (graded again). */
function OutsidePieces({ row }: { row: ReviewRow }) {
  const client = useQueryClient();
  const add = useMutation({
    mutationFn: (p: OutsideWriting) => addOutsideWriting(row.item_id, p.page_id, p.index),
    onSuccess: async () => {
      toast.success(`Added to ${row.question_label}: it is graded again`);
      await client.invalidateQueries({ queryKey: ['review'] });
    },
    onError: (err) => toast.error('Could not add the writing', { description: errorMessage(err) }),
  });
  const dismiss = useMutation({
    mutationFn: (p: OutsideWriting) => dismissOutsideWriting(p.page_id, p.index),
    onSuccess: async () => {
      await client.invalidateQueries({ queryKey: ['review'] });
    },
    onError: (err) => toast.error('Could not set the writing aside', { description: errorMessage(err) }),
  });
  return (
    <ul className="outside-pieces">
      {row.outside.map((p) => {
        // The piece with a margin, zoomed from the page's preview.
        const m = 0.02;
        const x = Math.max(0, p.page_box.x - m);
        const y = Math.max(0, p.page_box.y - m);
        const w = Math.min(1 - x, p.page_box.w + 2 * m);
        const h = Math.min(1 - y, p.page_box.h + 2 * m);
        return (
          <li key={`${p.page_id}-${p.index}`}>
            <span
              className="outside-thumb"
              role="img"
              aria-label={`Writing outside the boxes on page ${p.template_page}`}
              data-testid={`outside-thumb-${p.page_id}-${p.index}`}
              style={{
                backgroundImage: `url("${pageImageUrl(p.page_id, p.rev)}")`,
                backgroundSize: `${100 / w}% ${100 / h}%`,
                backgroundPosition: `${w < 1 ? (x / (1 - w)) * 100 : 0}% ${h < 1 ? (y / (1 - h)) * 100 : 0}%`,
                aspectRatio: `${(w * 210) / (h * 297)}`,
              }}
            />
            <button
              type="button"
              className="btn btn-small"
              data-testid={`outside-add-${p.page_id}-${p.index}`}
              disabled={add.isPending}
              onClick={(e) => {
                e.stopPropagation();
                add.mutate(p);
              }}
            >
              Add to this answer
            </button>
            <button
              type="button"
              className="btn btn-small btn-ghost"
              data-testid={`outside-ignore-${p.page_id}-${p.index}`}
              disabled={dismiss.isPending}
              onClick={(e) => {
                e.stopPropagation();
                dismiss.mutate(p);
              }}
            >
              Not an answer
            </button>
          </li>
        );
      })}
    </ul>
  );
}

/** The teacher's correction of the model's transcription, saved when they leave the field
 * (keyed by the stored text, so a saved correction starts it afresh). */
function TranscriptionEditor({ row, domId }: { row: ReviewRow; domId: string }) {
  const client = useQueryClient();
  const [text, setText] = useState(row.transcription ?? '');
  const save = useMutation({
    mutationFn: (t: string) => setTranscription(row.item_id, t),
    onSuccess: async () => {
      toast.success('Transcription corrected', { id: 'review-transcription' });
      await client.invalidateQueries({ queryKey: ['review'] });
    },
    onError: (err) => toast.error('Could not save the transcription', { description: errorMessage(err) }),
  });
  const commit = () => {
    if (text !== (row.transcription ?? '')) save.mutate(text);
  };
  return (
    <div className="field review-transcription-edit">
      <label htmlFor={`${domId}-tr`} className="muted small">
        Transcription (what the student wrote; correct the model&rsquo;s reading here)
      </label>
      <textarea
        id={`${domId}-tr`}
        data-testid="review-transcription-input"
        rows={3}
        value={text}
        onClick={(e) => e.stopPropagation()}
        onChange={(e) => setText(e.target.value)}
        onBlur={commit}
        onKeyDown={(e) => {
          e.stopPropagation();
          if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
            e.preventDefault();
            commit();
          } else if (e.key === 'Escape') {
            e.preventDefault();
            setText(row.transcription ?? '');
          }
        }}
      />
    </div>
  );
}

/** The question's rubric items on an answer: which apply (the AI's with its evidence, or the
 * teacher's), each a toggle with its number key. */
function ItemToggles({
  row,
  question,
  selected,
  saving,
  onToggle,
}: {
  row: ReviewRow;
  question: Question;
  selected: boolean;
  saving: boolean;
  onToggle: (rubricItemId: number) => void;
}) {
  const chosen = new Set(chosenItems(row));
  const evidence = new Map(row.applied.map((a) => [a.item_id, a.evidence]));
  return (
    <ul className="review-items" aria-label="Rubric items" data-testid={`review-items-${row.item_id}`}>
      {question.items.map((item, k) => {
        const on = chosen.has(item.id);
        const quote = evidence.get(item.id);
        return (
          <li key={item.id} className={`review-item${on ? ' is-on' : ''}${item.points < 0 ? ' is-deduction' : ''}`}>
            <button
              type="button"
              role="switch"
              aria-checked={on}
              className="review-item-toggle"
              data-testid={`review-item-${row.item_id}-${item.id}`}
              disabled={saving}
              onClick={(e) => {
                e.stopPropagation();
                onToggle(item.id);
              }}
            >
              <span className="review-item-key" aria-hidden="true">
                {selected && k < 9 ? <kbd>{k + 1}</kbd> : null}
              </span>
              <span className="review-item-check" aria-hidden="true">
                {on ? '✓' : ''}
              </span>
              <span className="review-item-text">{item.text}</span>
              <span className="review-item-points">{signedPoints(item.points)}</span>
            </button>
            {quote !== undefined && quote.trim() !== '' && (
              <q className="review-item-evidence" data-testid={`review-evidence-${row.item_id}-${item.id}`}>
                {quote}
              </q>
            )}
          </li>
        );
      })}
    </ul>
  );
}

const ROUTE_PILL: Record<ReviewRow['route'], string> = {
  flagged: 'pill pill-failed',
  waiting: 'pill pill-waiting',
  auto_accepted: 'pill pill-done',
  teacher: 'pill pill-done',
};

function ReviewCard({
  domId,
  row,
  question,
  saving,
  anonymous,
  selected,
  pending,
  note,
  onNote,
  onNoteDone,
  onSelect,
  onAccept,
  onToggle,
  onScore,
}: {
  domId: string;
  row: ReviewRow;
  /** The question answered (its rubric items to toggle). */
  question: Question | undefined;
  saving: boolean;
  /** Names hidden: the card shows the script's number only. */
  anonymous: boolean;
  note: string;
  onNote: (note: string) => void;
  /** The teacher left the note field: with Enter (save the score) or Escape. */
  onNoteDone: (save: boolean) => void;
  selected: boolean;
  pending: string;
  onSelect: () => void;
  onAccept: () => void;
  onToggle: (rubricItemId: number) => void;
  /** A free score typed in the card (questions with items, where number keys toggle). */
  onScore: (score: number) => void;
}) {
  const name = reviewName(row.student, row.submission_id, anonymous);
  const hasItems = question !== undefined && question.items.length > 0;
  const [typed, setTyped] = useState('');
  const showReason = row.review_reason !== null && row.route !== 'teacher';
  return (
    <div
      id={domId}
      role="option"
      aria-selected={selected}
      className={`review-card${selected ? ' is-selected' : ''}${row.route === 'flagged' ? ' is-flagged' : ''}`}
      data-testid={`review-row-${row.item_id}`}
      data-route={row.route}
      onClick={onSelect}
    >
      <div className="review-crop">
        <img src={cropImageUrl(row.item_id)} alt={`Answer of ${name} to ${row.question_label}`} loading="lazy" />
      </div>
      <div className="review-body">
        <div className="review-head">
          <strong className="review-student">{name}</strong>
          {row.state === 'done' && (
            <span className={ROUTE_PILL[row.route]} data-testid={`review-route-${row.item_id}`} title={row.review_reason ?? undefined}>
              {ROUTE_LABEL[row.route]}
            </span>
          )}
          {row.state !== 'done' && <span className="pill">{STATE_LABEL[row.state]}</span>}
          {row.transcription_edited && <span className="pill">transcription corrected</span>}
        </div>
        {showReason && (
          <p className={row.route === 'flagged' ? 'review-reason' : 'review-reason is-quiet'} data-testid={`review-reason-${row.item_id}`}>
            {row.review_reason}
          </p>
        )}
        {row.outside_writing && (
          <div className="review-outside" data-testid={`outside-${row.item_id}`}>
            <p>{row.outside_writing}: not in this answer&rsquo;s crop</p>
            <OutsidePieces row={row} />
          </div>
        )}
        {selected ? (
          <TranscriptionEditor key={row.transcription ?? ''} row={row} domId={domId} />
        ) : (
          <dl className="review-facts">
            <div>
              <dt>Transcription</dt>
              <dd className="review-transcription">{row.transcription ?? '–'}</dd>
            </div>
          </dl>
        )}
        {row.transcription_edited && row.model_transcription !== null && (
          <p className="muted small review-model-reading">The model read: {row.model_transcription}</p>
        )}
        {hasItems && <ItemToggles row={row} question={question} selected={selected} saving={saving} onToggle={onToggle} />}
        <dl className="review-facts">
          <div>
            <dt>Feedback</dt>
            <dd>{row.feedback ?? '–'}</dd>
          </div>
          {row.second_opinion !== null && (
            <div data-testid={`review-second-${row.item_id}`}>
              <dt>Second grading</dt>
              <dd>
                {scoreText(row.second_opinion.score, row.max_points)}
                {row.second_opinion.feedback ? ` — ${row.second_opinion.feedback}` : ''}
              </dd>
            </div>
          )}
        </dl>
      </div>
      <div className="review-scores">
        <div>
          <span className="muted small">AI</span>{' '}
          <span data-testid={`review-ai-${row.item_id}`}>{scoreText(row.ai_score, row.max_points)}</span>
        </div>
        <div className="muted small">confidence {formatConfidence(row.confidence)}</div>
        <div className="review-final">
          <span className="muted small">Teacher</span>{' '}
          <strong data-testid={`review-teacher-${row.item_id}`}>
            {row.teacher_score === null ? '–' : scoreText(row.teacher_score, row.max_points)}
          </strong>
        </div>
        {selected && pending !== '' && (
          <div className="review-pending" data-testid="review-pending" aria-live="polite">
            New score: {pending}
          </div>
        )}
        <button
          type="button"
          className="btn btn-small"
          data-testid={`review-accept-${row.item_id}`}
          aria-label={`Accept the score for ${name}`}
          onClick={(e) => {
            e.stopPropagation();
            onAccept();
          }}
        >
          {selected && pending !== '' ? 'Save score' : 'Accept'}
        </button>
        {selected && hasItems && (
          <div className="field review-note">
            <label htmlFor={`${domId}-score`} className="muted small">
              Or give a score
            </label>
            <input
              id={`${domId}-score`}
              data-testid="review-score-input"
              inputMode="decimal"
              value={typed}
              placeholder={`0–${formatPoints(row.max_points)}`}
              onClick={(e) => e.stopPropagation()}
              onChange={(e) => setTyped(e.target.value)}
              onKeyDown={(e) => {
                e.stopPropagation();
                if (e.key === 'Enter') {
                  e.preventDefault();
                  const score = parsePending(typed.replace(',', '.'));
                  if (score !== null) {
                    setTyped('');
                    onScore(score);
                  }
                } else if (e.key === 'Escape') {
                  e.preventDefault();
                  setTyped('');
                  onNoteDone(false);
                }
              }}
              autoComplete="off"
            />
          </div>
        )}
        {selected && (
          <div className="field review-note">
            <label htmlFor={`${domId}-note`} className="muted small">
              Note with your score (optional)
            </label>
            <input
              id={`${domId}-note`}
              data-testid="review-note"
              value={note}
              maxLength={500}
              placeholder={row.teacher_note ?? 'e.g. units missing'}
              onClick={(e) => e.stopPropagation()}
              onChange={(e) => onNote(e.target.value)}
              onKeyDown={(e) => {
                if (e.key === 'Enter' || e.key === 'Escape') {
                  e.preventDefault();
                  e.stopPropagation();
                  onNoteDone(e.key === 'Enter');
                }
              }}
              autoComplete="off"
            />
          </div>
        )}
        {row.history.length > 0 && (
          <ol className="review-history" aria-label={`History of ${name}’s score`} data-testid={`review-history-${row.item_id}`}>
            {row.history.map((h, k) => (
              <li key={k}>
                <time dateTime={new Date(h.at_ms).toISOString()} className="muted small">
                  {formatWhen(h.at_ms)}
                </time>{' '}
                {h.by === 'ai' ? 'AI' : 'Teacher'}: {formatPoints(h.score)}
                {h.note ? ` — ${h.note}` : ''}
              </li>
            ))}
          </ol>
        )}
      </div>
    </div>
  );
}
