import { useQuery } from '@tanstack/react-query';
import { useEffect, useId } from 'react';
import { Bar, BarChart, CartesianGrid, Cell, Tooltip, XAxis, YAxis } from 'recharts';
import { errorMessage, examStats } from '../api';
import type { Agreement, Exam, QuestionStats } from '../api/types';
import { ExportMenu } from '../components/ExportMenu';
import { formatPoints } from '../lib/format';
import { fig, levelBars, pct, rangeBars, shade, trust, type BarRow } from '../lib/stats';
import { useLiveData } from '../live/LiveContext';

export const statsQueryKey = (examId: number) => ['stats', examId] as const;

type Props = {
  exam: Exam | null;
  exams?: Exam[];
  onSelectExam?: (examId: number) => void;
  onBack: () => void;
};

/** A bar chart of counts (SVG, recharts). `ranges`: the labels are ranges, and those that
 * would overlap are skipped (each bar's tooltip still names its range). */
function Histogram({
  rows,
  testId,
  width = 360,
  height = 170,
  ranges = false,
}: {
  rows: BarRow[];
  testId: string;
  width?: number;
  height?: number;
  ranges?: boolean;
}) {
  return (
    <div className="histogram" data-testid={testId} data-bars={rows.length}>
      <BarChart width={width} height={height} data={rows} margin={{ top: 6, right: 8, bottom: 4, left: -18 }}>
        <CartesianGrid vertical={false} stroke="#e2e5ea" />
        <XAxis dataKey="label" tick={{ fontSize: 11 }} interval={ranges ? 'preserveStartEnd' : 0} minTickGap={6} tickLine={false} />
        <YAxis allowDecimals={false} tick={{ fontSize: 11 }} tickLine={false} axisLine={false} />
        <Tooltip cursor={{ fill: 'rgba(59,91,219,0.08)' }} formatter={(v) => [v, 'students']} />
        <Bar dataKey="count" isAnimationActive={false} radius={[3, 3, 0, 0]}>
          {rows.map((r) => (
            <Cell key={r.label} fill="#3b5bdb" />
          ))}
        </Bar>
      </BarChart>
    </div>
  );
}

/** The AI (rows) against the teacher (columns) on each score level, shaded by count. */
function Heatmap({ agreement, label }: { agreement: Agreement; label: string }) {
  const levels = agreement.levels;
  return (
    <table className="heatmap" data-testid={`heatmap-${label}`} aria-label={`AI against teacher on ${label}`}>
      <thead>
        <tr>
          <th className="heatmap-corner" scope="col">
            AI ↓ · you →
          </th>
          {levels.map((l) => (
            <th key={l} scope="col">
              {formatPoints(l)}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {agreement.confusion.map((row, i) => (
          <tr key={levels[i]}>
            <th scope="row">{formatPoints(levels[i] ?? i)}</th>
            {row.map((count, j) => {
              const s = shade(count, agreement.confusion);
              return (
                <td
                  key={j}
                  className={i === j ? 'is-diagonal' : undefined}
                  style={{ background: `rgba(59, 91, 219, ${0.08 + s * 0.82})`, color: s > 0.55 ? '#fff' : undefined }}
                  title={`AI ${formatPoints(levels[i] ?? i)}, you ${formatPoints(levels[j] ?? j)}: ${count}`}
                >
                  {count > 0 ? count : ''}
                </td>
              );
            })}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function QuestionCard({ q }: { q: QuestionStats }) {
  const a = q.agreement;
  const verdict = trust(a);
  return (
    <section className="card stats-question" data-testid={`stats-q-${q.label}`} aria-label={`Question ${q.label}`}>
      <div className="card-head">
        <h2 className="card-title">
          {q.label} <span className="muted small">out of {formatPoints(q.max_points)}</span>
        </h2>
        {q.low_discrimination && (
          <span className="tag tag-warn" data-testid={`flag-${q.label}`} title="Discrimination below 0.2: the question barely separates stronger from weaker students.">
            low discrimination
          </span>
        )}
      </div>
      <div className="stats-question-body">
        <div>
          <Histogram rows={levelBars(q.histogram)} testId={`hist-${q.label}`} width={300} />
          <dl className="figures">
            <div><dt>n</dt><dd data-fig="n">{q.n}</dd></div>
            <div><dt>mean</dt><dd data-fig="mean">{fig(q.mean)}</dd></div>
            <div><dt>median</dt><dd data-fig="median">{fig(q.median)}</dd></div>
            <div><dt>sd</dt><dd data-fig="sd">{fig(q.sd)}</dd></div>
            <div><dt>facility</dt><dd data-fig="facility">{fig(q.facility)}</dd></div>
            <div><dt>discrimination</dt><dd data-fig="discrimination">{fig(q.discrimination)}</dd></div>
            <div><dt>blank</dt><dd data-fig="blank">{pct(q.blank_share)}</dd></div>
          </dl>
        </div>
        <div className="agreement">
          <h3 className="agreement-title">AI against you</h3>
          <p className={`trust trust-${verdict.level}`} data-testid={`trust-${q.label}`}>
            {verdict.text}
          </p>
          <dl className="figures">
            <div><dt>reviewed</dt><dd data-fig="ai-n">{a.n}</dd></div>
            <div><dt>exact</dt><dd data-fig="exact">{pct(a.exact)}</dd></div>
            <div><dt>within 1</dt><dd data-fig="within-one">{pct(a.within_one)}</dd></div>
            <div><dt>MAE</dt><dd data-fig="mae">{fig(a.mae)}</dd></div>
            <div><dt>kappa (QWK)</dt><dd data-fig="qwk">{fig(a.qwk)}</dd></div>
          </dl>
          {a.n > 0 && <Heatmap agreement={a} label={q.label} />}
        </div>
      </div>
    </section>
  );
}

/** The statistics page: the exam's totals and reliability, then each question's figures,
 * its histogram, and how far to trust the AI on it; the export menu in the toolbar. */
export function StatsPage({ exam, exams = [], onSelectExam, onBack }: Props) {
  const id = useId();
  const { snapshot } = useLiveData();
  const graded = snapshot?.counts.succeeded ?? 0;
  const examId = exam?.id ?? -1;
  const query = useQuery({ queryKey: statsQueryKey(examId), queryFn: () => examStats(examId), enabled: exam !== null });
  const { refetch } = query;
  useEffect(() => {
    if (exam !== null) void refetch();
  }, [graded, exam, refetch]);

  if (exam === null) {
    return (
      <div className="page">
        <p className="empty">Create an exam first: there are no statistics yet.</p>
      </div>
    );
  }
  const stats = query.data;
  return (
    <div className="page stats-page">
      <section className="toolbar" aria-label="Statistics">
        <button type="button" className="btn btn-ghost" onClick={onBack}>
          ← Exams
        </button>
        <h1 className="page-title">Statistics</h1>
        {exams.length > 1 && onSelectExam !== undefined ? (
          <div className="field field-inline">
            <label htmlFor={`${id}-exam`}>Exam</label>
            <select id={`${id}-exam`} data-testid="stats-exam" value={exam.id} onChange={(e) => onSelectExam(Number(e.target.value))}>
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
        <div className="toolbar-spacer" />
        <ExportMenu exam={exam} />
      </section>
      {query.isError && (
        <div className="banner banner-error" role="alert">
          {errorMessage(query.error)}
        </div>
      )}
      {stats === undefined ? (
        <p className="empty">Loading the statistics…</p>
      ) : (
        <>
          <section className="card stats-exam" data-testid="stats-exam-card" aria-label="The whole exam">
            <div className="card-head">
              <h2 className="card-title">
                Total scores <span className="muted small">out of {formatPoints(stats.exam.max_points)}</span>
              </h2>
            </div>
            <div className="stats-question-body">
              <Histogram rows={rangeBars(stats.exam.histogram)} testId="hist-total" width={520} height={190} ranges />
              <dl className="figures figures-big">
                <div><dt>students graded on every question</dt><dd data-fig="exam-n">{stats.exam.n}</dd></div>
                <div><dt>mean</dt><dd data-fig="exam-mean">{fig(stats.exam.mean)}</dd></div>
                <div><dt>sd</dt><dd data-fig="exam-sd">{fig(stats.exam.sd)}</dd></div>
                <div>
                  <dt title="Internal consistency: above 0.7 the questions measure one thing together.">Cronbach’s alpha</dt>
                  <dd data-fig="alpha">{fig(stats.exam.alpha)}</dd>
                </div>
              </dl>
            </div>
          </section>
          <div className="stats-grid">
            {stats.questions.map((q) => (
              <QuestionCard key={q.label} q={q} />
            ))}
          </div>
        </>
      )}
    </div>
  );
}
