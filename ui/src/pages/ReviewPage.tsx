import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import { toast } from 'sonner';
import { addOutsideWriting, cropImageUrl, dismissOutsideWriting, errorMessage, overrideScore, pageImageUrl, reviewItems } from '../api';
import type { Exam, OutsideWriting, ReviewRow } from '../api/types';
import { loadAnonymous, reviewName, saveAnonymous } from '../lib/anonymous';
import { formatPoints, STATE_LABEL } from '../lib/format';
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
  const [selected, setSelected] = useState(0);
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
  const current: ReviewRow | undefined = rows[Math.min(selected, rows.length - 1)];

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

  const save = async (row: ReviewRow, score: number) => {
    const problem = scoreProblem(score, row.max_points);
    if (problem !== null) {
      toast.error(problem, { id: 'review-score' });
      return;
    }
    setSaving(true);
    try {
      const trimmed = note.trim();
      await overrideScore(row.item_id, score, trimmed === '' ? undefined : trimmed);
      setPending('');
      setNote('');
      await client.invalidateQueries({ queryKey: reviewQueryKey(examId, label) });
      toast.success(`${reviewName(row.student, row.submission_id, anonymous)}: ${formatPoints(score)} / ${formatPoints(row.max_points)} saved.`, {
        id: 'review-score',
      });
      move(1);
    } catch (err) {
      toast.error(errorMessage(err), { id: 'review-score-error', duration: 8000 });
    } finally {
      setSaving(false);
    }
  };

  const accept = (row: ReviewRow) => {
    const typed = parsePending(pending);
    const score = typed ?? row.teacher_score ?? row.ai_score;
    if (score === null) {
      toast.error('This answer has no AI score yet: type a score first.', { id: 'review-score' });
      return;
    }
    void save(row, score);
  };

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    if (e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement) return;
    if (e.key === 'j' || e.key === 'ArrowDown') {
      e.preventDefault();
      move(1);
    } else if (e.key === 'k' || e.key === 'ArrowUp') {
      e.preventDefault();
      move(-1);
    } else if (e.key === 'Enter') {
      if (current && !saving) {
        e.preventDefault();
        accept(current);
      }
    } else if (e.key === 'Escape') {
      setPending('');
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
              setSelected(0);
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
          <kbd>j</kbd>/<kbd>k</kbd> move · <kbd>0</kbd>–<kbd>9</kbd>, <kbd>.</kbd> type a score · <kbd>Enter</kbd>{' '}
          accept · <kbd>Esc</kbd> clear
        </p>
      </section>

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

function ReviewCard({
  domId,
  row,
  anonymous,
  selected,
  pending,
  note,
  onNote,
  onNoteDone,
  onSelect,
  onAccept,
}: {
  domId: string;
  row: ReviewRow;
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
}) {
  const name = reviewName(row.student, row.submission_id, anonymous);
  return (
    <div
      id={domId}
      role="option"
      aria-selected={selected}
      className={`review-card${selected ? ' is-selected' : ''}${row.needs_review ? ' is-flagged' : ''}`}
      data-testid={`review-row-${row.item_id}`}
      onClick={onSelect}
    >
      <div className="review-crop">
        <img src={cropImageUrl(row.item_id)} alt={`Answer of ${name} to ${row.question_label}`} loading="lazy" />
      </div>
      <div className="review-body">
        <div className="review-head">
          <strong className="review-student">{name}</strong>
          {row.needs_review && (
            <span className="pill pill-failed" title={row.review_reason ?? undefined}>
              Needs review
            </span>
          )}
          {row.state !== 'done' && <span className="pill">{STATE_LABEL[row.state]}</span>}
        </div>
        {row.needs_review && row.review_reason && <p className="review-reason">{row.review_reason}</p>}
        {row.outside_writing && (
          <div className="review-outside" data-testid={`outside-${row.item_id}`}>
            <p>{row.outside_writing}: not in this answer&rsquo;s crop</p>
            <OutsidePieces row={row} />
          </div>
        )}
        <dl className="review-facts">
          <div>
            <dt>Transcription</dt>
            <dd className="review-transcription">{row.transcription ?? '–'}</dd>
          </div>
          <div>
            <dt>Feedback</dt>
            <dd>{row.feedback ?? '–'}</dd>
          </div>
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
