import { useCallback, useId, useState } from 'react';
import { toast } from 'sonner';
import { batchEstimate, batchOverview, cancelBatch, errorMessage, sendBatch, setGradingMode } from '../api';
import type { BatchOverview, BatchPreview, Exam, GradingMode } from '../api/types';
import { useBatchOverview } from '../live/useBatchOverview';
import { batchAge, batchStateLabel, formatCost, isOpen } from '../lib/batches';
import { pluralize } from '../lib/format';

type Props = {
  /** The exam the page shows: its mode toggle and "send batch" are offered. */
  exam: Exam | null;
  /** Changes whenever the live view refetched (a `changed` event): the panel looks again. */
  seq: number;
  /** Injectable for tests. */
  load?: () => Promise<BatchOverview>;
  now?: () => number;
};

/**
 * Grading later, in a Gemini batch: the exam's mode (now or later), the estimate before
 * sending, and every batch with its state, age, counts and cost. (The window announces
 * finished batches itself, whatever page is open: see `useBatchFinished` in App.)
 */
export function BatchPanel({ exam, seq, load = batchOverview, now = Date.now }: Props) {
  const id = useId();
  const [preview, setPreview] = useState<BatchPreview | null>(null);
  const [busy, setBusy] = useState(false);
  const query = useBatchOverview(seq, load);
  const overview = query.data ?? null;
  const { refetch } = query;
  const refresh = useCallback(() => refetch(), [refetch]);

  const act = async (what: () => Promise<unknown>, done?: string) => {
    setBusy(true);
    try {
      await what();
      if (done !== undefined) toast.success(done, { id: 'batch-action' });
      await refresh();
    } catch (err) {
      toast.error(errorMessage(err), { id: 'batch-action-error', duration: 8000 });
    } finally {
      setBusy(false);
    }
  };

  const mine = exam === null ? undefined : overview?.exams.find((e) => e.exam_id === exam.id);
  const mode: GradingMode = mine?.mode ?? 'now';
  const batches = overview?.batches ?? [];

  return (
    <section className="card batch-panel" aria-labelledby={`${id}-title`} data-testid="batch-panel">
      <div className="card-head">
        <h2 id={`${id}-title`} className="card-title">
          Grade later (batch, half the price)
        </h2>
        <div className="toolbar-spacer" />
        {exam !== null && (
          <div className="button-row" role="group" aria-label="When this exam is graded">
            {(['now', 'later'] as const).map((m) => (
              <button
                key={m}
                type="button"
                className={`btn btn-small ${mode === m ? 'btn-primary' : 'btn-ghost'}`}
                aria-pressed={mode === m}
                data-testid={`mode-${m}`}
                disabled={busy}
                onClick={() =>
                  mode !== m &&
                  void act(
                    () => setGradingMode(exam.id, m),
                    m === 'later' ? `“${exam.name}” will be graded in a batch.` : `“${exam.name}” is graded now.`,
                  )
                }
              >
                {m === 'now' ? 'Grade now' : 'Grade later'}
              </button>
            ))}
          </div>
        )}
      </div>

      {exam !== null && mine !== undefined && (
        <p className="muted" data-testid="batch-waiting">
          {pluralize(mine.waiting, 'answer')} waiting for a batch, {mine.in_batch} in a batch.
        </p>
      )}

      {exam !== null && mine !== undefined && mine.waiting > 0 && preview === null && (
        <button
          type="button"
          className="btn btn-small"
          data-testid="batch-estimate"
          disabled={busy}
          onClick={() => void act(async () => setPreview(await batchEstimate(exam.id)))}
        >
          Send batch…
        </button>
      )}

      {exam !== null && preview !== null && (
        <div className="batch-preview" role="dialog" aria-label="Send this batch?" data-testid="batch-preview">
          <p>
            {pluralize(preview.answers, 'answer')}, about {preview.estimate.input_tokens.toLocaleString()} input and{' '}
            {preview.estimate.output_tokens.toLocaleString()} output tokens: {formatCost(preview.estimate.cost_online)} online,{' '}
            <strong>{formatCost(preview.estimate.cost_batch)} in a batch</strong>. Results can take up to 24 hours.
            {preview.unreadable > 0 && ` ${pluralize(preview.unreadable, 'answer')} could not be read and stay waiting.`}
          </p>
          <div className="button-row">
            <button
              type="button"
              className="btn btn-small btn-primary"
              data-testid="batch-send"
              disabled={busy || preview.answers === 0}
              onClick={() =>
                void act(async () => {
                  const sent = await sendBatch(exam.id);
                  setPreview(null);
                  toast.success(`Sent ${pluralize(sent.answers, 'answer')} as ${sent.batch}.`, { id: 'batch-sent' });
                })
              }
            >
              Send
            </button>
            <button type="button" className="btn btn-small btn-ghost" disabled={busy} onClick={() => setPreview(null)}>
              Not now
            </button>
          </div>
        </div>
      )}

      {batches.length > 0 && (
        <table className="table batch-table" data-testid="batch-table">
          <thead>
            <tr>
              <th scope="col">Batch</th>
              <th scope="col">State</th>
              <th scope="col">Age</th>
              <th scope="col">Answers</th>
              <th scope="col">Estimated</th>
              <th scope="col">Actual</th>
              <th scope="col" aria-label="Actions" />
            </tr>
          </thead>
          <tbody>
            {batches.map((b) => (
              <tr key={b.batch || `sending-${b.created_at}`} data-testid="batch-row">
                <td>{b.batch || '(sending)'}</td>
                <td title={b.error ?? undefined}>{batchStateLabel(b)}</td>
                <td>{batchAge(b.created_at, now())}</td>
                <td>
                  {b.succeeded} / {b.answers}
                  {b.failed > 0 && ` (${b.failed} not graded)`}
                </td>
                <td>{formatCost(b.cost_estimated)}</td>
                <td>{formatCost(b.cost_actual)}</td>
                <td>
                  {isOpen(b) && b.batch !== '' && (
                    <button
                      type="button"
                      className="btn btn-small btn-ghost"
                      data-testid="batch-cancel"
                      disabled={busy}
                      onClick={() => void act(() => cancelBatch(b.batch), `Cancelling ${b.batch}; its answers go back to waiting.`)}
                    >
                      Cancel
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
