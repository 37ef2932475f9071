import { useId, useState } from 'react';
import { toast } from 'sonner';
import { errorMessage, pauseGrading, resumeGrading } from '../api';
import type { Exam, Progress, QueueStatus } from '../api/types';
import { allPaused, blockers, examPaused, examProgress, formatEta, formatRate, overallProgress } from '../lib/queue';

type Props = {
  queue: QueueStatus | undefined;
  exams: Exam[];
  /** The exam the page shows; its line and pause controls are offered. */
  exam: Exam | null;
  /** Called after a pause/resume so the view can refresh. */
  onChanged?: () => void;
};

/** Grading progress (overall and per exam), pause/resume, and why the queue is blocked. */
export function ProgressPanel({ queue, exams, exam, onChanged }: Props) {
  const id = useId();
  const [busy, setBusy] = useState(false);
  const overall = overallProgress(queue);
  const pausedAll = allPaused(queue);
  const pausedExam = exam ? examPaused(queue, exam.id) : null;
  const problems = blockers(queue, exams);
  const perExam = (queue?.progress ?? []).filter((p) => p.exam_id !== null);

  const act = async (what: () => Promise<unknown>, done: string) => {
    setBusy(true);
    try {
      await what();
      toast.success(done, { id: 'queue-control' });
      onChanged?.();
    } catch (err) {
      toast.error(errorMessage(err), { id: 'queue-control-error', duration: 8000 });
    } finally {
      setBusy(false);
    }
  };

  const resumeAll = pausedAll !== null || (queue?.halted ?? null) !== null;

  return (
    <section className="card progress-panel" aria-labelledby={`${id}-title`} data-testid="progress-panel">
      <div className="card-head">
        <h2 id={`${id}-title`} className="card-title">
          Grading progress
        </h2>
        <div className="toolbar-spacer" />
        <div className="button-row" role="group" aria-label="Pause or resume grading">
          {exam !== null &&
            (pausedExam ? (
              <button
                type="button"
                className="btn btn-small"
                data-testid="resume-exam"
                disabled={busy}
                onClick={() => void act(() => resumeGrading(exam.id), `Grading of “${exam.name}” resumed.`)}
              >
                Resume this exam
              </button>
            ) : (
              <button
                type="button"
                className="btn btn-small btn-ghost"
                data-testid="pause-exam"
                disabled={busy}
                onClick={() => void act(() => pauseGrading(exam.id), `Grading of “${exam.name}” paused.`)}
              >
                Pause this exam
              </button>
            ))}
          {resumeAll ? (
            <button
              type="button"
              className="btn btn-small btn-primary"
              data-testid="resume-all"
              disabled={busy}
              onClick={() => void act(() => resumeGrading(), 'Grading resumed.')}
            >
              Resume all
            </button>
          ) : (
            <button
              type="button"
              className="btn btn-small"
              data-testid="pause-all"
              disabled={busy}
              onClick={() => void act(() => pauseGrading(), 'All grading paused. Answers being graded now will finish.')}
            >
              Pause all
            </button>
          )}
        </div>
      </div>

      {problems.length > 0 && (
        <ul className="blockers" role="status" aria-live="polite" data-testid="queue-blockers">
          {problems.map((b, k) => (
            <li key={k} className={`blocker blocker-${b.kind}`} data-kind={b.kind}>
              <span className="blocker-text">{b.text}</span>
              {b.hint !== undefined && <span className="blocker-hint"> {b.hint}</span>}
            </li>
          ))}
        </ul>
      )}

      {queue === undefined ? (
        <p className="empty">Waiting for the grading queue…</p>
      ) : overall === null || overall.total === 0 ? (
        <p className="empty">Nothing to grade yet. Open a scan and box its answers.</p>
      ) : (
        <>
          <ProgressLine label="All exams" progress={overall} testId="progress-overall" />
          {perExam
            .filter((p) => perExam.length > 1 || p.exam_id === exam?.id)
            .map((p) => {
              const name = exams.find((e) => e.id === p.exam_id)?.name ?? `Exam ${p.exam_id}`;
              return <ProgressLine key={p.exam_id} label={name} progress={p} testId={`progress-exam-${p.exam_id}`} />;
            })}
          {exam !== null && examProgress(queue, exam.id) === null && (
            <p className="muted small">No answers of “{exam.name}” are queued.</p>
          )}
        </>
      )}
    </section>
  );
}

export function ProgressLine({ label, progress: p, testId }: { label: string; progress: Progress; testId: string }) {
  const pct = Math.max(0, Math.min(100, Math.round(p.percent)));
  return (
    <div className="progress-line" data-testid={testId}>
      <div className="progress-line-head">
        <span className="progress-line-label">{label}</span>
        <span className="progress-line-pct" data-testid={`${testId}-percent`}>
          {pct}%
        </span>
      </div>
      <span
        className="progress progress-wide"
        role="progressbar"
        aria-label={`${label}: answers finished`}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={pct}
      >
        <span className="progress-bar" style={{ width: `${pct}%` }} />
      </span>
      <dl className="progress-stats">
        <div>
          <dt>Graded</dt>
          <dd data-testid={`${testId}-done`}>
            {p.done} / {p.total}
          </dd>
        </div>
        <div>
          <dt>Waiting</dt>
          <dd>{p.queued}</dd>
        </div>
        <div>
          <dt>Grading</dt>
          <dd>{p.running}</dd>
        </div>
        <div>
          <dt>Failed</dt>
          <dd className={p.failed > 0 ? 'text-danger' : undefined}>{p.failed}</dd>
        </div>
        <div>
          <dt>Rate</dt>
          <dd>{formatRate(p.per_minute)}</dd>
        </div>
        <div>
          <dt>Time left</dt>
          <dd data-testid={`${testId}-eta`}>{p.queued + p.running === 0 ? 'done' : formatEta(p.eta_seconds)}</dd>
        </div>
      </dl>
    </div>
  );
}
