import { pageThumbUrl } from '../api';
import type { PageView } from '../api/types';
import { pluralize } from '../lib/format';

type Props = {
  pages: PageView[];
  current: number;
  /** How many answer boxes each page number has, so empty pages stand out. */
  boxesByPage: Map<number, number>;
  onGo: (index: number) => void;
};

/**
 * The scan's pages as thumbnails (≤ 256 px, served by id), so a teacher sees at a glance
 * which page holds which answers and which pages still have no box.
 */
export function PageStrip({ pages, current, boxesByPage, onGo }: Props) {
  return (
    <nav className="page-strip" aria-label="Pages of this scan" data-testid="page-strip">
      <ol>
        {pages.map((p, k) => {
          const boxes = boxesByPage.get(p.number) ?? 0;
          return (
            <li key={p.id}>
              <button
                type="button"
                className="page-thumb"
                data-testid={`page-thumb-${p.number}`}
                aria-current={k === current ? 'page' : undefined}
                aria-label={`Page ${p.number}, ${pluralize(boxes, 'answer box', 'answer boxes')}`}
                onClick={() => onGo(k)}
              >
                <img src={pageThumbUrl(p.id, p.rev)} alt="" loading="lazy" decoding="async" draggable={false} />
                <span className="page-thumb-number" aria-hidden="true">
                  {p.number}
                </span>
                {boxes > 0 && (
                  <span className="page-thumb-boxes" aria-hidden="true">
                    {boxes}
                  </span>
                )}
              </button>
            </li>
          );
        })}
      </ol>
    </nav>
  );
}
