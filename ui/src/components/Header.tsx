import type { Counts } from '../api/types';
import { useLiveData } from '../live/LiveContext';

const COUNT_LABELS: { key: keyof Counts; label: string }[] = [
  { key: 'queued', label: 'queued' },
  { key: 'running', label: 'grading' },
  { key: 'succeeded', label: 'graded' },
  { key: 'dead', label: 'failed' },
];

export function LiveBadge({ live, polling }: { live: boolean; polling: boolean }) {
  const title = live
    ? 'Receiving live updates from the grading core.'
    : polling
      ? 'No heartbeat from the grading core; checking for progress every 5 seconds.'
      : 'No heartbeat from the grading core; waiting for it to come back.';
  return (
    <span
      className={`live-badge ${live ? 'is-live' : 'is-reconnecting'}`}
      data-testid="live-badge"
      data-live={live ? 'true' : 'false'}
      role="status"
      aria-live="polite"
      title={title}
    >
      <span className="live-dot" aria-hidden="true" />
      {live ? 'Live' : 'Reconnecting'}
    </span>
  );
}

export function CountsSummary({ counts }: { counts: Counts | null }) {
  if (counts === null) return null;
  return (
    <ul className="counts" data-testid="counts-summary" aria-label="Grading jobs">
      {COUNT_LABELS.map(({ key, label }) => (
        <li key={key} className={`count count-${key}`} data-count={key}>
          <span className="count-n">{counts[key]}</span> {label}
        </li>
      ))}
    </ul>
  );
}

export type NavTarget = 'exams' | 'review' | 'stats' | 'settings';

const NAV: { name: NavTarget; label: string }[] = [
  { name: 'exams', label: 'Exams' },
  { name: 'review', label: 'Review' },
  { name: 'stats', label: 'Statistics' },
  { name: 'settings', label: 'Settings' },
];

type HeaderProps = {
  onHome: () => void;
  current?: string;
  onNavigate?: (name: NavTarget) => void;
};

export function Header({ onHome, current, onNavigate }: HeaderProps) {
  const { snapshot, live, polling } = useLiveData();
  return (
    <header className="app-header">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <button type="button" className="brand" onClick={onHome} aria-label="GradeDesk: back to exams">
        <span className="brand-mark" aria-hidden="true">
          G
        </span>
        <span className="brand-name">GradeDesk</span>
      </button>
      {onNavigate !== undefined && (
        <nav className="app-nav" aria-label="Pages">
          {NAV.map((n) => (
            <button
              key={n.name}
              type="button"
              className={`nav-link${current === n.name ? ' is-current' : ''}`}
              aria-current={current === n.name ? 'page' : undefined}
              data-testid={`nav-${n.name}`}
              onClick={() => onNavigate(n.name)}
            >
              {n.label}
            </button>
          ))}
        </nav>
      )}
      <div className="header-spacer" />
      <CountsSummary counts={snapshot?.counts ?? null} />
      <LiveBadge live={live} polling={polling} />
    </header>
  );
}
