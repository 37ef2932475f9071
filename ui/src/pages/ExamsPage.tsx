import { useVirtualizer } from '@tanstack/react-virtual';
import { useId, useRef, useState } from 'react';
import { pageThumbUrl } from '../api';
import type { Exam, SubmissionView } from '../api/types';
import { ImportButton } from '../components/ImportButton';
import { ExamEditor } from '../components/ExamEditor';
import { NewExamForm } from '../components/NewExamForm';
import { BatchPanel } from '../components/BatchPanel';
import { ProgressPanel } from '../components/ProgressPanel';
import { formatPoints, pluralize } from '../lib/format';
import { useLiveData } from '../live/LiveContext';

type Props = {
  selectedExamId: number | null;
  onSelectExam: (examId: number) => void;
  onOpenSubmission: (submissionId: number) => void;
  /** Opens the exam's Template page (the template, its regions, the class import). */
  onOpenTemplate?: (examId: number) => void;
};

export function ExamsPage({ selectedExamId, onSelectExam, onOpenSubmission, onOpenTemplate }: Props) {
  const id = useId();
  const { snapshot, loading, refresh } = useLiveData();
  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState(false);
  const exams = snapshot?.exams ?? [];
  const exam = exams.find((e) => e.id === selectedExamId) ?? exams[0] ?? null;
  const submissions = exam ? (snapshot?.submissions ?? []).filter((s) => s.exam_id === exam.id) : [];

  return (
    <div className="page exams-page">
      <section className="toolbar" aria-label="Exam">
        <div className="field field-inline">
          <label htmlFor={`${id}-exam`}>Exam</label>
          <select
            id={`${id}-exam`}
            data-testid="exam-select"
            value={exam?.id ?? ''}
            onChange={(e) => onSelectExam(Number(e.target.value))}
            disabled={exams.length === 0}
          >
            {exams.length === 0 && <option value="">No exams yet</option>}
            {exams.map((e) => (
              <option key={e.id} value={e.id}>
                {e.name}
              </option>
            ))}
          </select>
        </div>
        <button
          type="button"
          className="btn btn-ghost"
          data-testid="new-exam-toggle"
          aria-expanded={creating}
          onClick={() => setCreating((c) => !c)}
        >
          + New exam
        </button>
        <button
          type="button"
          className="btn btn-ghost"
          data-testid="edit-exam"
          aria-haspopup="dialog"
          disabled={exam === null}
          onClick={() => setEditing(true)}
        >
          Edit exam & questions
        </button>
        {onOpenTemplate && (
          <button
            type="button"
            className="btn btn-ghost"
            data-testid="open-template"
            disabled={exam === null}
            onClick={() => exam && onOpenTemplate(exam.id)}
          >
            Template & class
          </button>
        )}
        <div className="toolbar-spacer" />
        <ImportButton examId={exam?.id ?? null} />
      </section>

      {creating && (
        <NewExamForm
          onCancel={() => setCreating(false)}
          onCreated={(examId) => {
            setCreating(false);
            onSelectExam(examId);
          }}
        />
      )}

      {exam !== null && <QuestionStrip exam={exam} />}

      {editing && exam !== null && <ExamEditor key={exam.id} exam={exam} onClose={() => setEditing(false)} />}

      {snapshot !== null && (
        <ProgressPanel queue={snapshot.queue} exams={exams} exam={exam} onChanged={refresh} />
      )}

      {snapshot !== null && <BatchPanel exam={exam} seq={snapshot.seq} />}

      <section className="card" aria-labelledby={`${id}-subs`}>
        <div className="card-head">
          <h2 id={`${id}-subs`} className="card-title">
            Submissions
          </h2>
          {exam !== null && <span className="muted">{pluralize(submissions.length, 'scan')}</span>}
        </div>
        {loading ? (
          <p className="empty">Loading…</p>
        ) : exam === null ? (
          <p className="empty">Create an exam to start importing scans.</p>
        ) : submissions.length === 0 ? (
          <p className="empty">No scans for this exam yet. Use “Import scans” to add them one student at a time, or “Template & class” to draw the regions once and import the whole class.</p>
        ) : (
          <SubmissionTable submissions={submissions} onOpen={onOpenSubmission} />
        )}
      </section>
    </div>
  );
}

function QuestionStrip({ exam }: { exam: Exam }) {
  const total = exam.questions.reduce((sum, q) => sum + q.max_points, 0);
  return (
    <ul className="question-strip" aria-label={`Questions of ${exam.name}`}>
      {exam.questions.map((q) => (
        <li key={q.id} className="chip" title={q.prompt}>
          <strong>{q.label}</strong> {formatPoints(q.max_points)} pts
        </li>
      ))}
      <li className="chip chip-muted">Total {formatPoints(total)} pts</li>
    </ul>
  );
}

/** Above this many scans the table renders only the rows in view. */
export const VIRTUALIZE_AFTER = 40;
const ROW_HEIGHT = 41;

function SubmissionTable({
  submissions,
  onOpen,
}: {
  submissions: SubmissionView[];
  onOpen: (id: number) => void;
}) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const virtual = submissions.length > VIRTUALIZE_AFTER;
  // The virtualizer's functions change identity on purpose; nothing here memoizes them.
  // eslint-disable-next-line react-hooks/incompatible-library
  const virtualizer = useVirtualizer({
    count: submissions.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 10,
    enabled: virtual,
  });
  const items = virtual ? virtualizer.getVirtualItems() : [];
  const rows = virtual ? items.map((v) => submissions[v.index]!) : submissions;
  const padTop = virtual ? (items[0]?.start ?? 0) : 0;
  const padBottom = virtual ? virtualizer.getTotalSize() - (items[items.length - 1]?.end ?? 0) : 0;

  return (
    <div ref={scrollRef} className={virtual ? 'table-scroll' : undefined}>
      <table className="table" data-testid="submission-list" aria-rowcount={submissions.length + 1}>
        <thead>
          <tr>
            <th scope="col">
              <span className="visually-hidden">First page</span>
            </th>
            <th scope="col">Student</th>
            <th scope="col">File</th>
            <th scope="col" className="num">
              Pages
            </th>
            <th scope="col">Answers graded</th>
          </tr>
        </thead>
        <tbody>
          {padTop > 0 && (
            <tr aria-hidden="true">
              <td colSpan={5} style={{ height: padTop, padding: 0, border: 0 }} />
            </tr>
          )}
          {rows.map((s, k) => (
            <SubmissionRow key={s.id} s={s} index={virtual ? items[k]!.index : k} onOpen={onOpen} />
          ))}
          {padBottom > 0 && (
            <tr aria-hidden="true">
              <td colSpan={5} style={{ height: padBottom, padding: 0, border: 0 }} />
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}

function SubmissionRow({ s, index, onOpen }: { s: SubmissionView; index: number; onOpen: (id: number) => void }) {
  const pct = s.items > 0 ? Math.round((s.done / s.items) * 100) : 0;
  return (
    <tr
      data-testid={`submission-row-${s.id}`}
      className="row-link"
      aria-rowindex={index + 2}
      onClick={() => onOpen(s.id)}
    >
      <td className="thumb-cell">
        {s.first_page_id != null && (
          <img
            className="row-thumb"
            src={pageThumbUrl(s.first_page_id, s.first_page_rev)}
            alt=""
            loading="lazy"
            decoding="async"
            data-testid={`submission-thumb-${s.id}`}
          />
        )}
      </td>
      <td>
        <button
          type="button"
          className="link-button"
          data-testid={`open-submission-${s.id}`}
          onClick={(e) => {
            e.stopPropagation();
            onOpen(s.id);
          }}
        >
          {s.student.trim() !== '' ? s.student : 'Unnamed student'}
        </button>
      </td>
      <td className="file-cell" title={s.file_name}>
        {s.file_name}
      </td>
      <td className="num">{s.pages}</td>
      <td>
        <div className="progress-cell">
          <span
            className="progress"
            role="progressbar"
            aria-label={`Answers graded for ${s.student || 'this scan'}`}
            aria-valuemin={0}
            aria-valuemax={s.items}
            aria-valuenow={s.done}
          >
            <span className="progress-bar" style={{ width: `${pct}%` }} />
          </span>
          <span className="progress-text" data-testid={`submission-done-${s.id}`}>
            {s.done} / {s.items}
          </span>
        </div>
      </td>
    </tr>
  );
}
