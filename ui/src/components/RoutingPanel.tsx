import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useId } from 'react';
import { toast } from 'sonner';
import { errorMessage, estimate, reviewRouting, setReviewPolicy } from '../api';
import type { ReviewPolicy } from '../api/types';
import { formatCost } from '../lib/batches';
import { pluralize } from '../lib/format';
import { routingSentence } from '../lib/reviewItems';

export const routingQueryKey = (examId: number, label: string) => ['routing', examId, label] as const;

type Props = { examId: number; label: string };

/**
 * How a question's answers are routed: how many are flagged, waiting, accepted automatically
 * and by the teacher, the sentence that says why, and the exam's policy (auto-accept, its
 * thresholds, double grading with what it adds to the estimate).
 */
export function RoutingPanel({ examId, label }: Props) {
  const id = useId();
  const client = useQueryClient();
  const routing = useQuery({ queryKey: routingQueryKey(examId, label), queryFn: () => reviewRouting(examId, label) });
  const cost = useQuery({
    queryKey: ['estimate', examId],
    queryFn: () => estimate(examId),
    enabled: routing.data?.policy.double_grading === true,
  });
  const save = useMutation({
    mutationFn: (policy: ReviewPolicy) => setReviewPolicy(examId, policy),
    onSuccess: async () => {
      await client.invalidateQueries({ queryKey: ['routing', examId] });
      await client.invalidateQueries({ queryKey: ['review', examId] });
      await client.invalidateQueries({ queryKey: ['estimate', examId] });
    },
    onError: (err) => toast.error('Could not change the routing', { description: errorMessage(err) }),
  });
  const r = routing.data;
  if (r === undefined) return null;
  const p = r.policy;
  const change = (patch: Partial<ReviewPolicy>) => save.mutate({ ...p, ...patch });
  const toGrade = cost.data?.to_grade;
  return (
    <section className="routing-panel" aria-label={`Routing of ${label}`} data-testid="routing-panel">
      <ul className="routing-counts">
        <li data-testid="routing-flagged">
          <strong>{r.flagged}</strong> flagged
        </li>
        <li data-testid="routing-waiting">
          <strong>{r.waiting}</strong> waiting
        </li>
        <li data-testid="routing-auto">
          <strong>{r.auto_accepted}</strong> accepted automatically
        </li>
        <li data-testid="routing-teacher">
          <strong>{r.by_teacher}</strong> by you
        </li>
      </ul>
      <p className="routing-why" data-testid="routing-why">
        {routingSentence(r)}
      </p>
      <div className="routing-policy">
        <label className="field-inline">
          <input
            type="checkbox"
            data-testid="policy-auto-accept"
            checked={p.auto_accept}
            disabled={save.isPending}
            onChange={(e) => change({ auto_accept: e.target.checked })}
          />
          Accept confident answers automatically
        </label>
        <PercentSelect
          id={`${id}-conf`}
          label="confidence ≥"
          testId="policy-confidence"
          choices={[60, 70, 80, 90, 95]}
          share={p.confidence_threshold}
          disabled={save.isPending}
          onChange={(share) => change({ confidence_threshold: share })}
        />
        <PercentSelect
          id={`${id}-target`}
          label="agreement ≥"
          testId="policy-target"
          choices={[80, 85, 90, 95, 100]}
          share={p.agreement_target}
          disabled={save.isPending}
          onChange={(share) => change({ agreement_target: share })}
        />
        <label className="field-inline">
          <input
            type="checkbox"
            data-testid="policy-double"
            checked={p.double_grading}
            disabled={save.isPending}
            onChange={(e) => change({ double_grading: e.target.checked })}
          />
          Grade each answer twice
        </label>
        {p.double_grading && toGrade !== undefined && (
          <span className="muted small" data-testid="policy-double-cost">
            {toGrade.double_graded === 0
              ? 'Answers graded from now on are graded twice.'
              : `${pluralize(toGrade.double_graded, 'answer')} to grade twice: ${formatCost(toGrade.double_grading_cost_usd)} more, ${formatCost(toGrade.expected_cost_usd)} in all.`}
          </span>
        )}
      </div>
    </section>
  );
}

/** A share (0..1) picked from a few percentages. */
function PercentSelect(props: {
  id: string;
  label: string;
  testId: string;
  choices: number[];
  share: number;
  disabled: boolean;
  onChange: (share: number) => void;
}) {
  return (
    <label className="field-inline" htmlFor={props.id}>
      {props.label}
      <select
        id={props.id}
        data-testid={props.testId}
        value={Math.round(props.share * 100)}
        disabled={props.disabled}
        onChange={(e) => props.onChange(Number(e.target.value) / 100)}
      >
        {props.choices.map((v) => (
          <option key={v} value={v}>
            {v}%
          </option>
        ))}
      </select>
    </label>
  );
}
