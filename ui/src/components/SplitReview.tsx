import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useId, useRef, useState, type KeyboardEvent, type PointerEvent } from 'react';
import { toast } from 'sonner';
import {
  classItems,
  confirmSplit,
  errorMessage,
  looseImageUrl,
  mergeStudents,
  movePage,
  pageImageUrl,
  pageThumbUrl,
  placePage,
  setPageAside,
  shiftAlignment,
  turnPage,
  splitReview,
  splitStudent,
} from '../api';
import type { ClassItem, Exam, Flag, LoosePage, SplitPage, SplitStudent } from '../api/types';
import { pluralize } from '../lib/format';
import { SNAPSHOT_QUERY_KEY } from '../live/useLive';

export const splitQueryKey = (examId: number) => ['split', examId] as const;

/** Where a page goes: a student (null: a new one) and the template page it is. */
type Destination = { submissionId: number | null; slot: number };

/** Which page the teacher is moving or placing, and where to. */
type Moving = { kind: 'page'; page: SplitPage; from: SplitStudent } | { kind: 'loose'; page: LoosePage };

/** The split review: each student's pages in template order with what to look at, the pages
 * nobody got, and the moves that fix it, then one confirmation that starts the grading. */
export function SplitReviewPanel({ exam, templatePages }: { exam: Exam; templatePages: number }) {
  const id = useId();
  const client = useQueryClient();
  const review = useQuery({ queryKey: splitQueryKey(exam.id), queryFn: () => splitReview(exam.id) });
  const [moving, setMoving] = useState<Moving | null>(null);
  const [checking, setChecking] = useState<{ page: SplitPage; student: SplitStudent } | null>(null);

  const after = async () => {
    await client.invalidateQueries({ queryKey: splitQueryKey(exam.id) });
    await client.invalidateQueries({ queryKey: SNAPSHOT_QUERY_KEY });
  };
  const act = useMutation({
    mutationFn: async (run: () => Promise<unknown>) => {
      await run();
    },
    onSuccess: after,
    onError: async (err) => {
      toast.error('Could not change the split', { description: errorMessage(err) });
      await after();
    },
  });
  const confirm = useMutation({
    mutationFn: () => confirmSplit(exam.id),
    onSuccess: async () => {
      toast.success('Split confirmed: grading has started');
      await after();
    },
    onError: (err) => toast.error('Could not start grading', { description: errorMessage(err) }),
  });

  if (review.isPending) return <p className="empty">Loading the class…</p>;
  if (review.isError) {
    return (
      <div className="banner banner-error" role="alert">
        <span>{errorMessage(review.error)}</span>
      </div>
    );
  }
  const data = review.data;
  if (data.students.length === 0 && data.unassigned.length === 0) {
    return (
      <p className="empty" data-testid="split-empty">
        No class imported yet: import the class’s scans on the Template tab, or drop them on the window.
      </p>
    );
  }
  const flagged = data.students.filter((s) => s.flags.length > 0).length;
  const slots = Array.from({ length: Math.max(templatePages, data.template_pages) }, (_, k) => k + 1);

  return (
    <div className="split-review" data-testid="split-review">
      <section className="card split-summary" aria-labelledby={`${id}-sum`}>
        <h2 id={`${id}-sum`} className="card-title">
          {pluralize(data.students.length, 'student')}, {pluralize(slots.length, 'page')} each
        </h2>
        <p data-testid="split-summary">
          {flagged === 0 ? 'Nothing to look at.' : `${pluralize(flagged, 'student')} with something to look at (flagged in orange).`}{' '}
          {data.unassigned.length > 0 && `${pluralize(data.unassigned.length, 'page')} nobody got, listed below.`}
        </p>
        {data.held ? (
          <button
            type="button"
            className="btn btn-primary"
            data-testid="confirm-split"
            disabled={confirm.isPending}
            onClick={() => confirm.mutate()}
          >
            Confirm the split and start grading
          </button>
        ) : (
          <p className="muted" data-testid="split-confirmed">
            Grading is under way; changes to a page cut its answers again.
          </p>
        )}
      </section>
      <section className="card" aria-label="Students and their pages">
        <table className="split-table">
          <thead>
            <tr>
              <th scope="col">Student</th>
              {slots.map((n) => (
                <th key={n} scope="col">
                  Page {n}
                </th>
              ))}
              <th scope="col">To look at</th>
            </tr>
          </thead>
          <tbody>
            {data.students.map((student, k) => (
              <StudentRow
                key={student.submission_id}
                student={student}
                previous={data.students[k - 1] ?? null}
                slots={slots}
                busy={act.isPending}
                onAside={(page) => act.mutate(() => setPageAside(page.page_id))}
                onTurn={(page, quarters) => act.mutate(() => turnPage(page.page_id, quarters))}
                onMove={(page) => setMoving({ kind: 'page', page, from: student })}
                onCheck={(page) => setChecking({ page, student })}
                onSplit={(slot) => act.mutate(() => splitStudent(student.submission_id, slot))}
                onMerge={(into) => act.mutate(() => mergeStudents(into.submission_id, student.submission_id))}
              />
            ))}
          </tbody>
        </table>
      </section>
      {data.unassigned.length > 0 && (
        <section className="card" aria-labelledby={`${id}-loose`}>
          <h2 id={`${id}-loose`} className="card-title">
            Pages nobody got
          </h2>
          <ul className="loose-list" data-testid="loose-list">
            {data.unassigned.map((page) => (
              <li key={page.unassigned_id} className="loose-page" data-testid={`loose-${page.unassigned_id}`}>
                {page.readable ? (
                  <img src={looseImageUrl(page.unassigned_id)} alt={`Page ${page.source.page} of ${page.source.file}`} />
                ) : (
                  <span className="loose-unreadable">unreadable</span>
                )}
                <div>
                  <strong>
                    {page.source.file}, page {page.source.page}
                  </strong>
                  <p className="muted">{page.reason}</p>
                  {page.readable && (
                    <button
                      type="button"
                      className="btn btn-small"
                      data-testid={`place-${page.unassigned_id}`}
                      onClick={() => setMoving({ kind: 'loose', page })}
                    >
                      Give to a student…
                    </button>
                  )}
                </div>
              </li>
            ))}
          </ul>
        </section>
      )}
      {moving !== null && (
        <MoveDialog
          moving={moving}
          students={data.students}
          slots={slots}
          onCancel={() => setMoving(null)}
          onMove={(to) => {
            const m = moving;
            setMoving(null);
            act.mutate(() =>
              m.kind === 'page' ? movePage(m.page.page_id, to.submissionId, to.slot) : placePage(m.page.unassigned_id, to.submissionId, to.slot),
            );
          }}
        />
      )}
      {checking !== null && (
        <AlignmentCheck exam={exam} page={checking.page} student={checking.student} onClose={() => setChecking(null)} />
      )}
    </div>
  );
}

type RowProps = {
  student: SplitStudent;
  previous: SplitStudent | null;
  slots: number[];
  busy: boolean;
  onAside: (page: SplitPage) => void;
  onTurn: (page: SplitPage, quarters: number) => void;
  onMove: (page: SplitPage) => void;
  onCheck: (page: SplitPage) => void;
  onSplit: (slot: number) => void;
  onMerge: (into: SplitStudent) => void;
};

/** One student: a cell per template page (the page's thumbnail, or "missing"), the flags. */
function StudentRow({ student, previous, slots, busy, onAside, onTurn, onMove, onCheck, onSplit, onMerge }: RowProps) {
  const flagged = student.flags.length > 0;
  return (
    <tr className={flagged ? 'is-flagged' : undefined} data-testid={`split-student-${student.submission_id}`}>
      <th scope="row">
        <span className="split-student">{student.student}</span>
        {previous !== null && (
          <button
            type="button"
            className="btn btn-small btn-ghost"
            disabled={busy}
            data-testid={`merge-${student.submission_id}`}
            onClick={() => onMerge(previous)}
          >
            Merge into {previous.student}
          </button>
        )}
      </th>
      {slots.map((slot) => {
        const page = student.pages.find((p) => p.template_page === slot);
        const pageFlags = student.flags.filter((f) => f.page === slot);
        if (!page) {
          return (
            <td key={slot} className="split-missing" data-testid={`slot-${student.submission_id}-${slot}`}>
              missing
            </td>
          );
        }
        return (
          <td key={slot} data-testid={`slot-${student.submission_id}-${slot}`} className={pageFlags.length > 0 ? 'is-flagged' : undefined}>
            <button
              type="button"
              className="split-thumb"
              aria-label={`Check the alignment of ${student.student}'s page ${slot} (${page.source.file}, page ${page.source.page})`}
              data-testid={`check-${page.page_id}`}
              onClick={() => onCheck(page)}
            >
              <img src={pageThumbUrl(page.page_id, page.rev)} alt="" draggable={false} />
              <span className="split-source">
                {page.source.file} p.{page.source.page}
                {page.quality !== null && ` · fit ${Math.round(page.quality * 100)}%`}
              </span>
            </button>
            <div className="split-actions">
              <button type="button" className="btn btn-small btn-ghost" disabled={busy} onClick={() => onMove(page)}>
                Move…
              </button>
              <button
                type="button"
                className="btn btn-small btn-ghost"
                disabled={busy}
                data-testid={`aside-${page.page_id}`}
                onClick={() => onAside(page)}
              >
                Set aside
              </button>
              <button
                type="button"
                className="btn btn-small btn-ghost"
                disabled={busy}
                data-testid={`turn-${page.page_id}`}
                title="Read this page the other way up (if it was lined up upside down)"
                onClick={() => onTurn(page, 2)}
              >
                Turn over
              </button>
              <button
                type="button"
                className="btn btn-small btn-ghost"
                disabled={busy}
                title="Read this page a quarter turn clockwise from now"
                aria-label={`Turn ${student.student}'s page ${slot} a quarter clockwise`}
                onClick={() => onTurn(page, 1)}
              >
                ↻
              </button>
              {slot > 1 && student.pages.some((p) => (p.template_page ?? 0) < slot) && (
                <button type="button" className="btn btn-small btn-ghost" disabled={busy} onClick={() => onSplit(slot)}>
                  New student from here
                </button>
              )}
            </div>
          </td>
        );
      })}
      <td>
        <FlagList flags={student.flags} />
      </td>
    </tr>
  );
}

function FlagList({ flags }: { flags: Flag[] }) {
  if (flags.length === 0) return <span className="muted">—</span>;
  return (
    <ul className="flag-list">
      {flags.map((f, k) => (
        <li key={k} className={`flag flag-${f.kind}`} data-kind={f.kind}>
          {f.message}
        </li>
      ))}
    </ul>
  );
}

/** Escape closes a dialog wherever the focus is. */
function useEscape(onClose: () => void) {
  const ref = useRef(onClose);
  useEffect(() => {
    ref.current = onClose;
  });
  useEffect(() => {
    const listener = (e: globalThis.KeyboardEvent) => {
      if (e.key === 'Escape') ref.current();
    };
    window.addEventListener('keydown', listener);
    return () => window.removeEventListener('keydown', listener);
  }, []);
}

/** Chooses where a page goes: a student (or a new one) and its template page. */
function MoveDialog({
  moving,
  students,
  slots,
  onCancel,
  onMove,
}: {
  moving: Moving;
  students: SplitStudent[];
  slots: number[];
  onCancel: () => void;
  onMove: (to: Destination) => void;
}) {
  const id = useId();
  const initialStudent = moving.kind === 'page' ? moving.from.submission_id : (students[0]?.submission_id ?? null);
  const [student, setStudent] = useState<number | null>(initialStudent);
  const taken = (sid: number | null) => students.find((s) => s.submission_id === sid)?.pages.map((p) => p.template_page) ?? [];
  const free = slots.filter((n) => !taken(student).includes(n));
  const [slot, setSlot] = useState<number>(moving.kind === 'page' ? (moving.page.template_page ?? 1) : (free[0] ?? 1));
  const source = moving.page.source;
  useEscape(onCancel);
  return (
    <div className="modal-backdrop" role="presentation">
      <div className="modal modal-narrow card" role="dialog" aria-modal="true" aria-labelledby={`${id}-t`} data-testid="move-dialog">
        <h2 id={`${id}-t`} className="card-title">
          Where does {source.file}, page {source.page} go?
        </h2>
        <div className="field">
          <label htmlFor={`${id}-s`}>Student</label>
          <select
            id={`${id}-s`}
            autoFocus
            value={student ?? 'new'}
            onChange={(e) => setStudent(e.target.value === 'new' ? null : Number(e.target.value))}
          >
            {students.map((s) => (
              <option key={s.submission_id} value={s.submission_id}>
                {s.student}
              </option>
            ))}
            <option value="new">A new student</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-p`}>As template page</label>
          <select id={`${id}-p`} value={slot} onChange={(e) => setSlot(Number(e.target.value))}>
            {slots.map((n) => (
              <option key={n} value={n}>
                Page {n}
                {taken(student).includes(n) ? ' (taken)' : ''}
              </option>
            ))}
          </select>
        </div>
        <div className="modal-actions">
          <button type="button" className="btn" onClick={onCancel}>
            Cancel
          </button>
          <button type="button" className="btn btn-primary" data-testid="move-confirm" onClick={() => onMove({ submissionId: student, slot })}>
            Move the page
          </button>
        </div>
      </div>
    </div>
  );
}

/** The scan with the regions as the fit maps them, to check a page's alignment; the teacher
 * drags the overlay (or moves it with the arrow keys) onto the writing and saves, which cuts
 * the page's answers again. */
function AlignmentCheck({
  exam,
  page,
  student,
  onClose,
}: {
  exam: Exam;
  page: SplitPage;
  student: SplitStudent;
  onClose: () => void;
}) {
  const id = useId();
  const client = useQueryClient();
  const items = useQuery({ queryKey: ['class-items', exam.id], queryFn: () => classItems(exam.id) });
  const [offset, setOffset] = useState({ dx: 0, dy: 0 });
  const drag = useRef<{ pointerId: number; x: number; y: number; start: { dx: number; dy: number } } | null>(null);
  const onPage: ClassItem[] = (items.data ?? []).filter(
    (i) =>
      i.submission_id === student.submission_id && i.source.file === page.source.file && i.source.page === page.source.page,
  );
  const save = useMutation({
    mutationFn: () => shiftAlignment(page.page_id, offset.dx, offset.dy),
    onSuccess: async (recut) => {
      toast.success('Alignment corrected', { description: `${pluralize(recut, 'answer')} cut again and queued` });
      setOffset({ dx: 0, dy: 0 });
      await client.invalidateQueries({ queryKey: ['class-items', exam.id] });
      await client.invalidateQueries({ queryKey: splitQueryKey(exam.id) });
    },
    onError: (err) => toast.error('Could not correct the alignment', { description: errorMessage(err) }),
  });
  // Screen pixels to page pixels: the overlay spans the page's width.
  const scale = (el: Element) => page.width / Math.max(1, el.getBoundingClientRect().width);
  function onPointerDown(e: PointerEvent<SVGSVGElement>) {
    if (e.button !== 0 || page.quality === null) return;
    e.currentTarget.setPointerCapture?.(e.pointerId);
    drag.current = { pointerId: e.pointerId, x: e.clientX, y: e.clientY, start: offset };
  }
  function onPointerMove(e: PointerEvent<SVGSVGElement>) {
    const d = drag.current;
    if (d === null || d.pointerId !== e.pointerId) return;
    const k = scale(e.currentTarget);
    setOffset({ dx: d.start.dx + (e.clientX - d.x) * k, dy: d.start.dy + (e.clientY - d.y) * k });
  }
  function onKeyDown(e: KeyboardEvent<SVGSVGElement>) {
    const step = e.shiftKey ? 20 : 4;
    const moves: Record<string, [number, number]> = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    const move = moves[e.key];
    if (move) {
      e.preventDefault();
      setOffset((o) => ({ dx: o.dx + move[0], dy: o.dy + move[1] }));
    } else if (e.key === 'Enter' && (offset.dx !== 0 || offset.dy !== 0)) {
      e.preventDefault();
      save.mutate();
    }
  }
  const moved = Math.round(offset.dx) !== 0 || Math.round(offset.dy) !== 0;
  useEscape(onClose);
  return (
    <div className="modal-backdrop" role="presentation">
      <div className="modal card" role="dialog" aria-modal="true" aria-labelledby={`${id}-t`} data-testid="alignment-check">
        <div className="card-head">
          <h2 id={`${id}-t`} className="card-title">
            {student.student}, page {page.template_page}: {page.source.file} p.{page.source.page}
          </h2>
          <button type="button" className="btn" autoFocus onClick={onClose}>
            Close
          </button>
        </div>
        <p data-testid="alignment-quality" className={page.flagged ? 'form-error' : 'muted'}>
          {page.quality === null
            ? 'Imported one by one: no alignment.'
            : `Fit: ${Math.round(page.quality * 100)}% of the template's marks found, ${(page.residual_px ?? 0).toFixed(1)} px off on average${page.flagged ? ' — check it' : ''}.`}
          {page.upside_down && ' Scanned upside down: read turned back.'}
        </p>
        {page.quality !== null && (
          <div className="alignment-bar">
            <span className="muted">
              Boxes off the writing? Drag them into place (or Tab here and use the arrow keys), then save.
            </span>
            <button
              type="button"
              className="btn btn-primary"
              data-testid="alignment-save"
              disabled={!moved || save.isPending}
              onClick={() => save.mutate()}
            >
              Save this alignment{moved ? ` (moved ${Math.round(offset.dx)}, ${Math.round(offset.dy)} px)` : ''}
            </button>
          </div>
        )}
        <div className="alignment-stage">
          <img src={pageImageUrl(page.page_id, page.rev)} alt={`${student.student}'s page ${page.template_page}`} />
          <svg
            viewBox={`0 0 ${page.width} ${page.height}`}
            preserveAspectRatio="none"
            tabIndex={0}
            role="group"
            aria-label="The regions as mapped onto this page. Arrow keys move them (Shift: further), Enter saves."
            data-testid="alignment-overlay"
            onPointerDown={onPointerDown}
            onPointerMove={onPointerMove}
            onPointerUp={() => (drag.current = null)}
            onPointerCancel={() => (drag.current = null)}
            onKeyDown={onKeyDown}
          >
            <g transform={`translate(${offset.dx} ${offset.dy})`}>
              {onPage.map((i) => (
                <g key={i.item_id} data-testid={`quad-${i.item_id}`}>
                  <polygon points={i.source_quad.map(([x, y]) => `${x + 0.5},${y + 0.5}`).join(' ')} />
                  <text x={(i.source_quad[0]?.[0] ?? 0) + 8} y={(i.source_quad[0]?.[1] ?? 0) + 40}>
                    {i.question_label}
                  </text>
                </g>
              ))}
            </g>
          </svg>
        </div>
      </div>
    </div>
  );
}
