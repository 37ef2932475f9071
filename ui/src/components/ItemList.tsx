import { useState } from 'react';
import { toast } from 'sonner';
import { cancelItem, errorMessage, prioritizeItem, retryItem } from '../api';
import type { ItemView } from '../api/types';
import { failureText, formatScore, STATE_LABEL } from '../lib/format';
import { heldBy, itemStatusLabel, type Hold } from '../lib/queue';

type ItemAction = 'cancel' | 'prioritize' | 'retry';

const RUN: Record<ItemAction, (itemId: number) => Promise<unknown>> = {
  cancel: cancelItem,
  prioritize: prioritizeItem,
  retry: retryItem,
};

const DONE_TEXT: Record<ItemAction, (label: string) => string> = {
  cancel: (l) => `${l}: grading cancelled.`,
  prioritize: (l) => `${l} moved to the front of the queue.`,
  retry: (l) => `${l} is queued again.`,
};

/** Runs a per-answer action (cancel, grade now, retry), reporting the outcome as a toast. */
export function useItemActions(): { busy: number | null; run: (action: ItemAction, item: ItemView) => Promise<void> } {
  const [busy, setBusy] = useState<number | null>(null);
  const run = async (action: ItemAction, item: ItemView) => {
    setBusy(item.item_id);
    try {
      await RUN[action](item.item_id);
      toast.success(DONE_TEXT[action](item.question_label), { id: `action-${item.item_id}` });
    } catch (err) {
      toast.error(errorMessage(err), { id: `action-${item.item_id}-error`, duration: 8000 });
    } finally {
      setBusy(null);
    }
  };
  return { busy, run };
}

type Props = {
  items: ItemView[];
  currentPage: number;
  onFocusItem: (item: ItemView) => void;
  onHighlight: (itemId: number | null) => void;
  /** Deletes the answer box (offered on every row when given). */
  onDelete?: (item: ItemView) => void;
  /** The answer whose deletion is under way, if any. */
  deleting?: number | null;
  /** What holds the waiting answers (key, pause, network), shown instead of "Queued". */
  hold?: Hold | null;
};

/** Every answer box of the submission with its grading state. */
export function ItemList({ items, currentPage, onFocusItem, onHighlight, onDelete, deleting = null, hold = null }: Props) {
  const { busy, run } = useItemActions();
  if (items.length === 0) {
    return <p className="empty">No answers boxed yet. Draw a box on the page and pick its question.</p>;
  }
  return (
    <ul className="item-list" aria-label="Answers">
      {items.map((item) => (
        <li
          key={item.item_id}
          className={`item-row state-${item.state}`}
          data-testid={`item-state-${item.item_id}`}
          data-state={item.state}
          onMouseEnter={() => onHighlight(item.item_id)}
          onMouseLeave={() => onHighlight(null)}
        >
          <div className="item-row-head">
            <button
              type="button"
              className="link-button item-label"
              onClick={() => onFocusItem(item)}
              onFocus={() => onHighlight(item.item_id)}
              onBlur={() => onHighlight(null)}
              aria-label={`${item.question_label} on page ${item.page_number}: ${itemStatusLabel(item.state, hold)}`}
            >
              {item.question_label}
            </button>
            {item.page_number !== currentPage && <span className="muted small">p. {item.page_number}</span>}
            <StatePill item={item} hold={hold} />
          </div>
          {item.state === 'done' && item.feedback !== null && item.feedback.trim() !== '' && (
            <p className="item-feedback">{item.feedback}</p>
          )}
          {item.state === 'failed' && <p className="item-error">{failureText(item)}</p>}
          <ItemActions
            item={item}
            disabled={busy === item.item_id || deleting === item.item_id}
            onRun={(a) => void run(a, item)}
            onDelete={onDelete ? () => onDelete(item) : undefined}
          />
        </li>
      ))}
    </ul>
  );
}

function ItemActions({
  item,
  disabled,
  onRun,
  onDelete,
}: {
  item: ItemView;
  disabled: boolean;
  onRun: (action: ItemAction) => void;
  onDelete?: () => void;
}) {
  const waiting = item.state === 'queued' || item.state === 'retrying';
  const active = waiting || item.state === 'grading';
  if (!active && item.state !== 'failed' && !onDelete) return null;
  const name = `${item.question_label} on page ${item.page_number}`;
  return (
    <div className="item-actions">
      {waiting && (
        <button
          type="button"
          className="btn btn-small"
          data-testid={`grade-now-${item.item_id}`}
          aria-label={`Grade ${name} now`}
          disabled={disabled}
          onClick={() => onRun('prioritize')}
        >
          Grade now
        </button>
      )}
      {active && (
        <button
          type="button"
          className="btn btn-small btn-ghost"
          data-testid={`cancel-${item.item_id}`}
          aria-label={`Cancel grading of ${name}`}
          disabled={disabled}
          onClick={() => onRun('cancel')}
        >
          Cancel
        </button>
      )}
      {item.state === 'failed' && (
        <button
          type="button"
          className="btn btn-small"
          data-testid={`retry-${item.item_id}`}
          aria-label={`Retry grading of ${name}`}
          disabled={disabled}
          onClick={() => onRun('retry')}
        >
          Retry
        </button>
      )}
      {onDelete && (
        <button
          type="button"
          className="btn btn-small btn-ghost"
          data-testid={`delete-${item.item_id}`}
          aria-label={`Delete the ${name} box`}
          disabled={disabled}
          onClick={onDelete}
        >
          Delete
        </button>
      )}
    </div>
  );
}

function StatePill({ item, hold }: { item: ItemView; hold: Hold | null }) {
  const spinning = item.state === 'grading' || item.state === 'retrying';
  const held = heldBy(item.state, hold);
  const label = held?.label ?? STATE_LABEL[item.state];
  return (
    <span
      className={`pill pill-${item.state}${held !== null ? ' pill-held' : ''}`}
      title={held?.detail}
      data-testid={`item-pill-${item.item_id}`}
    >
      {spinning && held === null && <span className="spinner" aria-hidden="true" />}
      <span className="pill-text">{label}</span>
      {item.state === 'done' && (
        <span
          className="item-score"
          data-testid={`item-score-${item.item_id}`}
          title={item.teacher_score !== null && item.teacher_score !== undefined ? `Teacher’s score (the AI gave ${formatScore({ ...item, teacher_score: null })})` : undefined}
        >
          {formatScore(item)}
          {item.teacher_score !== null && item.teacher_score !== undefined && <span className="item-score-by"> (teacher)</span>}
        </span>
      )}
    </span>
  );
}
