import type { ItemView } from '../api/types';
import { failureText, formatScore, STATE_LABEL } from '../lib/format';

type Props = {
  items: ItemView[];
  currentPage: number;
  onFocusItem: (item: ItemView) => void;
  onHighlight: (itemId: number | null) => void;
};

/** Every answer box of the submission with its grading state. */
export function ItemList({ items, currentPage, onFocusItem, onHighlight }: Props) {
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
              aria-label={`${item.question_label} on page ${item.page_number}: ${STATE_LABEL[item.state]}`}
            >
              {item.question_label}
            </button>
            {item.page_number !== currentPage && <span className="muted small">p. {item.page_number}</span>}
            <StatePill item={item} />
          </div>
          {item.state === 'done' && item.feedback !== null && item.feedback.trim() !== '' && (
            <p className="item-feedback">{item.feedback}</p>
          )}
          {item.state === 'failed' && <p className="item-error">{failureText(item)}</p>}
        </li>
      ))}
    </ul>
  );
}

function StatePill({ item }: { item: ItemView }) {
  const spinning = item.state === 'grading' || item.state === 'retrying';
  return (
    <span className={`pill pill-${item.state}`}>
      {spinning && <span className="spinner" aria-hidden="true" />}
      <span className="pill-text">{STATE_LABEL[item.state]}</span>
      {item.state === 'done' && (
        <span className="item-score" data-testid={`item-score-${item.item_id}`}>
          {formatScore(item)}
        </span>
      )}
    </span>
  );
}
