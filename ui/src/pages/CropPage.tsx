import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useId, useRef, useState } from 'react';
import { toast } from 'sonner';
import { createItem, deleteItem, errorMessage, getSubmission, pageImageUrl, recropItem, restoreItem } from '../api';
import type { Bbox, CreateItemArgs, ItemView, PageView, SubmissionDetail } from '../api/types';
import { CropStage, type DrawnBox, type Selection } from '../components/CropStage';
import { ItemList } from '../components/ItemList';
import { PageStrip } from '../components/PageStrip';
import { StudentName } from '../components/StudentName';
import { CROP_SHORTCUTS_HELP, cropShortcut, isTypingTarget, stepIndex } from '../lib/cropKeys';
import { formatPoints } from '../lib/format';
import { clampBox, isTooSmall } from '../lib/geometry';
import { waitingHold } from '../lib/queue';
import { useLiveData } from '../live/LiveContext';

export const submissionQueryKey = (id: number) => ['submission', id] as const;

/** Items of the submission: the detail as fetched, overridden by the live (newer) view. */
export function mergeItems(
  detail: ItemView[],
  live: ItemView[] | undefined,
  submissionId: number,
): ItemView[] {
  const byId = new Map(detail.map((i) => [i.item_id, i] as const));
  for (const i of live ?? []) if (i.submission_id === submissionId) byId.set(i.item_id, i);
  return [...byId.values()].sort(
    (a, b) => a.page_number - b.page_number || a.bbox.y - b.bbox.y || a.item_id - b.item_id,
  );
}

const ZOOMS = [1, 1.5, 2, 3];

type Props = {
  submissionId: number;
  onBack: () => void;
  /** Opens another submission's crop page (Shift+PageDown/PageUp). */
  onOpenSubmission?: (submissionId: number) => void;
};

/** What re-cropping an existing box sends: the box, its new geometry and its question. */
type Recrop = { item: ItemView; box: Bbox; questionLabel: string };

export function CropPage({ submissionId, onBack, onOpenSubmission }: Props) {
  const detail = useQuery({
    queryKey: submissionQueryKey(submissionId),
    queryFn: () => getSubmission(submissionId),
  });

  return (
    <div className="page crop-page">
      <div className="toolbar">
        <button type="button" className="btn btn-ghost" onClick={onBack} data-testid="back-button">
          ← Submissions
        </button>
        {detail.data && (
          <StudentName
            submissionId={submissionId}
            student={detail.data.submission.student}
            fileName={detail.data.submission.file_name}
            queryKey={submissionQueryKey(submissionId)}
          />
        )}
      </div>
      {detail.isPending ? (
        <p className="empty">Loading the scan…</p>
      ) : detail.isError ? (
        <div className="banner banner-error" role="alert">
          <span>{errorMessage(detail.error)}</span>
          <button type="button" className="btn btn-small" onClick={() => void detail.refetch()}>
            Try again
          </button>
        </div>
      ) : (
        <CropWorkspace detail={detail.data} onOpenSubmission={onOpenSubmission} />
      )}
    </div>
  );
}

function CropWorkspace({
  detail,
  onOpenSubmission,
}: {
  detail: SubmissionDetail;
  onOpenSubmission?: (submissionId: number) => void;
}) {
  const id = useId();
  const queryClient = useQueryClient();
  const live = useLiveData();
  const submissionId = detail.submission.id;
  const pages = [...detail.pages].sort((a, b) => a.number - b.number);
  const [pageIndex, setPageIndex] = useState(0);
  const [zoomIndex, setZoomIndex] = useState(0);
  const [draft, setDraft] = useState<DrawnBox | null>(null);
  const [chosen, setChosen] = useState<string>('');
  const [message, setMessage] = useState<string | null>(null);
  const [highlight, setHighlight] = useState<number | null>(null);
  const [selection, setSelection] = useState<Selection | null>(null);
  const focusRequest = useRef<number | null>(null);

  const page: PageView | undefined = pages[Math.min(pageIndex, pages.length - 1)];
  const exam = live.snapshot?.exams.find((e) => e.id === detail.submission.exam_id);
  const questions = exam?.questions ?? [];
  const questionLabel = questions.some((q) => q.label === chosen) ? chosen : (questions[0]?.label ?? '');
  const items = mergeItems(detail.items, live.snapshot?.items, submissionId);
  const pageItems = page ? items.filter((i) => i.page_number === page.number) : [];
  // A selection whose box was re-cropped or deleted meanwhile is let go.
  const selected = selection !== null ? pageItems.find((i) => i.item_id === selection.itemId) : undefined;
  const activeSelection = selected !== undefined ? selection : null;
  // What holds this exam's waiting answers (key, pause, network): each one says so.
  const hold = waitingHold(live.snapshot?.queue, detail.submission.exam_id);
  const examSubmissions = (live.snapshot?.submissions ?? []).filter((s) => s.exam_id === detail.submission.exam_id);

  const refreshAfterChange = async () => {
    await queryClient.invalidateQueries({ queryKey: submissionQueryKey(submissionId) });
    if (!live.live) live.refresh();
  };

  const recrop = useMutation({
    // One core call: the new box replaces the old one (same or another question) together.
    mutationFn: ({ item, box, questionLabel: label }: Recrop) => recropItem(item.item_id, label, clampBox(box)),
    onSuccess: async (_res, { item, questionLabel: label }) => {
      toast.success(
        label === item.question_label
          ? `${label} box changed; it is graded again`
          : `The ${item.question_label} box is now ${label}; it is graded again`,
      );
      setSelection(null);
      setMessage(null);
      await refreshAfterChange();
    },
    onError: async (err) => {
      const text = errorMessage(err);
      setMessage(text);
      toast.error('Could not change the answer box', { description: text });
      await refreshAfterChange();
    },
  });

  const remove = useMutation({
    mutationFn: (item: ItemView) => deleteItem(item.item_id),
    onSuccess: async (_res, item) => {
      // A stray Delete key should cost nothing: the box (and its grade) can come back.
      toast.success(`${item.question_label} box deleted`, {
        action: { label: 'Undo', onClick: () => restore.mutate(item) },
      });
      setSelection(null);
      setMessage(null);
      await refreshAfterChange();
    },
    onError: (err) => {
      const text = errorMessage(err);
      setMessage(text);
      toast.error('Could not delete the answer box', { description: text });
    },
  });

  const restore = useMutation({
    mutationFn: (item: ItemView) => restoreItem(item.item_id),
    onSuccess: async (_res, item) => {
      toast.success(`${item.question_label} box is back`);
      await refreshAfterChange();
    },
    onError: (err) => {
      const text = errorMessage(err);
      setMessage(text);
      toast.error('Could not bring the box back', { description: text });
    },
  });

  const grade = useMutation({
    mutationFn: (args: CreateItemArgs) => createItem(args),
    onSuccess: async (_res, args) => {
      toast.success(`${args.questionLabel} sent for grading`);
      setDraft(null);
      setMessage(null);
      // Move on to the next question: teachers usually box answers in order.
      const k = questions.findIndex((q) => q.label === args.questionLabel);
      const next = questions[k + 1];
      if (next) setChosen(next.label);
      await queryClient.invalidateQueries({ queryKey: submissionQueryKey(submissionId) });
      if (!live.live) live.refresh();
    },
    onError: (err) => {
      const text = errorMessage(err);
      setMessage(text);
      toast.error(`Could not send the answer for grading`, { description: text });
    },
  });

  function goToPage(index: number) {
    setPageIndex(index);
    setDraft(null);
    setSelection(null);
    setMessage(null);
  }

  function onSelect(item: ItemView | null) {
    setSelection(item === null ? null : { itemId: item.item_id, box: item.bbox });
    if (item !== null) setDraft(null);
  }

  function commitEdit(item: ItemView, box: Bbox, label = item.question_label) {
    if (recrop.isPending) return;
    recrop.mutate({ item, box, questionLabel: label });
  }

  // The item list asked for a box on another page: focus it once that page is shown.
  useEffect(() => {
    if (focusRequest.current === null) return;
    const el = document.querySelector<HTMLElement>(`[data-testid="item-box-${focusRequest.current}"]`);
    if (el) {
      focusRequest.current = null;
      el.focus();
    }
  });


  function onDraw(drawn: DrawnBox) {
    if (isTooSmall(drawn.box, drawn.displayed)) {
      setDraft(null);
      setMessage('That box is too small. Drag across the whole answer to draw a box around it.');
      return;
    }
    setDraft({ box: clampBox(drawn.box), displayed: drawn.displayed });
    setMessage(null);
  }

  function onDraftChange(box: Bbox | null) {
    setDraft(box === null ? null : { box: clampBox(box), displayed: draft?.displayed ?? { width: 1000, height: 1000 } });
    setMessage(null);
  }

  function submit(label = questionLabel) {
    if (!page) return;
    if (draft === null || isTooSmall(draft.box, draft.displayed)) {
      setMessage('Draw a box around the answer first: drag across it on the page.');
      return;
    }
    if (label === '') {
      setMessage('This exam has no questions to grade against.');
      return;
    }
    grade.mutate({
      submissionId,
      pageNumber: page.number,
      questionLabel: label,
      bbox: clampBox(draft.box),
    });
  }

  function onShortcut(e: KeyboardEvent) {
    if (e.defaultPrevented || isTypingTarget(e.target)) return;
    const shortcut = cropShortcut(e);
    if (shortcut === null || !page) return;
    e.preventDefault();
    if (shortcut.kind === 'page') {
      const next = stepIndex(pages.indexOf(page), shortcut.delta, pages.length);
      if (next !== null) goToPage(next);
    } else if (shortcut.kind === 'submission') {
      const k = examSubmissions.findIndex((s) => s.id === submissionId);
      const next = stepIndex(k, shortcut.delta, examSubmissions.length);
      const target = next === null ? undefined : examSubmissions[next];
      if (target && onOpenSubmission) onOpenSubmission(target.id);
      else toast(shortcut.delta > 0 ? 'This is the last student of the exam.' : 'This is the first student of the exam.');
    } else {
      const q = questions[shortcut.index];
      if (!q) {
        setMessage(`This exam has no question number ${shortcut.index + 1}.`);
        return;
      }
      if (selected && activeSelection) {
        commitEdit(selected, activeSelection.box, q.label);
      } else {
        setChosen(q.label);
        if (draft !== null) submit(q.label);
      }
    }
  }
  const shortcutRef = useRef(onShortcut);
  useEffect(() => {
    shortcutRef.current = onShortcut;
  });
  useEffect(() => {
    const listener = (e: KeyboardEvent) => shortcutRef.current(e);
    window.addEventListener('keydown', listener);
    return () => window.removeEventListener('keydown', listener);
  }, []);

  if (!page) {
    return <p className="empty">This scan has no pages.</p>;
  }

  const current = pages.indexOf(page);
  const question = questions.find((q) => q.label === questionLabel);

  return (
    <div className="workspace">
      <section className="viewer card" aria-label="Page">
        <div className="viewer-bar">
          {pages.length > 1 && (
            <nav className="pager" aria-label="Pages">
              <button
                type="button"
                className="btn btn-small"
                data-testid="page-prev"
                onClick={() => goToPage(current - 1)}
                disabled={current <= 0}
                aria-label="Previous page"
              >
                ‹
              </button>
              <span data-testid="page-indicator" aria-live="polite">
                Page {current + 1} of {pages.length}
              </span>
              <button
                type="button"
                className="btn btn-small"
                data-testid="page-next"
                onClick={() => goToPage(current + 1)}
                disabled={current >= pages.length - 1}
                aria-label="Next page"
              >
                ›
              </button>
            </nav>
          )}
          <div className="toolbar-spacer" />
          <div className="zoom" role="group" aria-label="Zoom">
            <button
              type="button"
              className="btn btn-small"
              onClick={() => setZoomIndex((z) => Math.max(0, z - 1))}
              disabled={zoomIndex === 0}
              aria-label="Zoom out"
            >
              −
            </button>
            <span className="zoom-value">{zoomIndex === 0 ? 'Fit' : `${(ZOOMS[zoomIndex] ?? 1) * 100}%`}</span>
            <button
              type="button"
              className="btn btn-small"
              onClick={() => setZoomIndex((z) => Math.min(ZOOMS.length - 1, z + 1))}
              disabled={zoomIndex === ZOOMS.length - 1}
              aria-label="Zoom in"
            >
              +
            </button>
          </div>
        </div>
        <div className="viewer-body">
          {pages.length > 1 && (
            <PageStrip pages={pages} current={current} boxesByPage={boxesByPage(items)} onGo={goToPage} />
          )}
          <CropStage
            key={page.id}
            src={pageImageUrl(page.id, page.rev)}
            hold={hold}
            alt={`Page ${page.number} of ${detail.submission.student || detail.submission.file_name}`}
            pageWidth={page.width}
            pageHeight={page.height}
            zoom={ZOOMS[zoomIndex] ?? 1}
            items={pageItems}
            highlightId={highlight}
            draft={draft?.box ?? null}
            onDraw={onDraw}
            onDraftChange={onDraftChange}
            selection={activeSelection}
            onSelect={onSelect}
            onEditChange={(box) => {
              if (selection !== null) setSelection({ ...selection, box });
            }}
            onEditCommit={(box) => {
              if (selected) commitEdit(selected, box);
            }}
            onDelete={(item) => remove.mutate(item)}
          />
        </div>
      </section>

      <aside className="side" aria-label="Answers">
        <form
          className="card grade-form"
          onSubmit={(e) => {
            e.preventDefault();
            submit();
          }}
        >
          <h2 className="card-title">Grade an answer</h2>
          <p className="hint">Drag a box around the answer on the page, then pick its question.</p>
          <dl className="shortcuts" aria-label="Keyboard shortcuts" data-testid="crop-shortcuts">
            {CROP_SHORTCUTS_HELP.map(([keys, what]) => (
              <div key={keys}>
                <dt>{keys}</dt>
                <dd>{what}</dd>
              </div>
            ))}
          </dl>
          <div className="field">
            <label htmlFor={`${id}-question`}>Question</label>
            <select
              id={`${id}-question`}
              data-testid="question-select"
              value={questionLabel}
              onChange={(e) => setChosen(e.target.value)}
              disabled={questions.length === 0}
            >
              {questions.length === 0 && <option value="">No questions</option>}
              {questions.map((q) => (
                <option key={q.id} value={q.label}>
                  {q.label} ({formatPoints(q.max_points)} pts){q.prompt ? ` · ${truncate(q.prompt, 48)}` : ''}
                </option>
              ))}
            </select>
          </div>
          {question?.prompt && <p className="question-prompt">{question.prompt}</p>}
          {message !== null && (
            <p className="form-error" role="alert" data-testid="crop-message">
              {message}
            </p>
          )}
          <button
            type="submit"
            className="btn btn-primary btn-block"
            data-testid="grade-button"
            disabled={grade.isPending}
          >
            Grade this answer
          </button>
        </form>

        <section className="card" aria-labelledby={`${id}-answers`}>
          <div className="card-head">
            <h2 id={`${id}-answers`} className="card-title">
              Answers
            </h2>
            <span className="muted">
              {items.filter((i) => i.state === 'done').length} / {items.length} graded
            </span>
          </div>
          <ItemList
            items={items}
            hold={hold}
            currentPage={page.number}
            onHighlight={setHighlight}
            onFocusItem={(item) => {
              const k = pages.findIndex((p) => p.number === item.page_number);
              if (k >= 0 && k !== current) goToPage(k);
              setHighlight(item.item_id);
              focusRequest.current = item.item_id;
            }}
            onDelete={(item) => remove.mutate(item)}
            deleting={remove.isPending ? (remove.variables?.item_id ?? null) : null}
          />
        </section>
      </aside>
    </div>
  );
}

function boxesByPage(items: ItemView[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const i of items) counts.set(i.page_number, (counts.get(i.page_number) ?? 0) + 1);
  return counts;
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}
