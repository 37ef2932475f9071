import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useId, useMemo, useRef, useState, type ChangeEvent, type KeyboardEvent } from 'react';
import { toast } from 'sonner';
import { errorMessage, importRoster, matchRows, nameBoxUrl, roster, setMatch } from '../api';
import type { Exam, MatchRow, RosterEntry, RosterImport } from '../api/types';
import { pluralize } from '../lib/format';
import {
  absentStudents,
  freeFirst,
  confidenceText,
  filterRoster,
  matchGroup,
  matchSummary,
  nextTodo,
  orderRows,
  preselected,
  readText,
  type MatchGroup,
} from '../lib/matching';
import { useLiveData } from '../live/LiveContext';

export const matchQueryKey = (examId: number) => ['match', examId] as const;
export const rosterQueryKey = (examId: number) => ['roster', examId] as const;

/** How often the screen asks again while names are still being read (events also refresh it). */
const READING_POLL_MS = 2000;

const GROUP_TITLE: Record<MatchGroup, string> = {
  todo: 'Waiting for you',
  auto: 'Matched automatically',
  done: 'Decided by you',
};

/**
 * The Names tab: the class roster and who wrote which script. The scripts the matching could
 * not decide come first, each with its name box beside a searchable roster list that starts on
 * the suggestion; Enter confirms, and the next script waiting comes up.
 */
export function MatchingPanel({ exam }: { exam: Exam }) {
  const id = useId();
  const client = useQueryClient();
  const { snapshot } = useLiveData();
  const rosterQuery = useQuery({ queryKey: rosterQueryKey(exam.id), queryFn: () => roster(exam.id) });
  const rowsQuery = useQuery({
    queryKey: matchQueryKey(exam.id),
    queryFn: () => matchRows(exam.id),
    refetchInterval: (q) => (q.state.data && matchSummary(q.state.data).reading > 0 ? READING_POLL_MS : false),
  });
  // Names read, grading done, scripts moved: every live change may touch the matching.
  const { refetch: refetchRows } = rowsQuery;
  const { refetch: refetchRoster } = rosterQuery;
  useEffect(() => {
    if (snapshot === null) return;
    void refetchRows();
    void refetchRoster();
  }, [snapshot, refetchRows, refetchRoster]);

  const rows = rowsQuery.data;
  const ordered = useMemo(() => orderRows(rows ?? []), [rows]);
  const entries = rosterQuery.data ?? [];

  const [skipped, setSkipped] = useState<RosterImport | null>(null);
  const [selected, setSelected] = useState<number | null>(null);
  const current = ordered.find((r) => r.submission_id === selected) ?? ordered[0];

  // The rest of the window (names in lists) follows the core's `changed: "roster"` event.
  const refresh = async () => {
    await client.invalidateQueries({ queryKey: matchQueryKey(exam.id) });
    await client.invalidateQueries({ queryKey: rosterQueryKey(exam.id) });
  };
  const upload = useMutation({
    mutationFn: (file: File) => importRoster(exam.id, file),
    onSuccess: async (result) => {
      setSkipped(result);
      toast.success(`Roster imported: ${pluralize(result.students, 'student')}`, {
        description: result.skipped.length > 0 ? `${pluralize(result.skipped.length, 'line')} left out.` : undefined,
      });
      await refresh();
    },
    onError: (err) => toast.error('Could not import the roster', { description: errorMessage(err) }),
  });
  const choose = useMutation({
    mutationFn: ({ row, rosterId }: { row: MatchRow; rosterId: string | null }) =>
      setMatch(exam.id, row.submission_id, rosterId),
    onSuccess: async (_, { row }) => {
      setSelected(nextTodo(ordered, row.submission_id) ?? row.submission_id);
      await refresh();
    },
    onError: async (err) => {
      toast.error('Could not change the match', { description: errorMessage(err) });
      await refresh();
    },
  });

  const onFile = (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0];
    e.target.value = '';
    if (file) upload.mutate(file);
  };

  if (rowsQuery.isPending || rosterQuery.isPending) return <p className="empty">Loading the names…</p>;
  const failed = rowsQuery.error ?? rosterQuery.error;
  if (failed) {
    return (
      <div className="banner banner-error" role="alert">
        <span>{errorMessage(failed)}</span>
        <button type="button" className="btn btn-small" onClick={() => void refresh()}>
          Try again
        </button>
      </div>
    );
  }

  const summary = matchSummary(ordered);
  const absent = absentStudents(entries);
  return (
    <div className="matching" data-testid="matching">
      <section className="card matching-head">
        <div className="card-head">
          <h2 className="card-title">
            {entries.length === 0 ? 'No roster yet' : `Roster: ${pluralize(entries.length, 'student')}`}
          </h2>
          <label
            htmlFor={`${id}-roster`}
            className={`btn file-button${entries.length === 0 ? ' btn-primary' : ''}${upload.isPending ? ' is-disabled' : ''}`}
            data-testid="roster-import"
          >
            <input
              id={`${id}-roster`}
              className="visually-hidden"
              type="file"
              accept=".csv,.tsv,.txt,text/csv,text/plain"
              data-testid="roster-file"
              disabled={upload.isPending}
              onChange={onFile}
            />
            {upload.isPending ? 'Importing…' : entries.length === 0 ? 'Import the roster…' : 'Import again…'}
          </label>
        </div>
        <p className="hint">
          A Canvas or Moodle gradebook export, a Google Classroom list, or one student per line (name, then ID and
          e-mail if you have them).
        </p>
        {ordered.length > 0 && entries.length > 0 && (
          <p data-testid="match-summary">
            {pluralize(summary.auto, 'script')} matched automatically · {summary.done} decided by you ·{' '}
            <strong>{summary.todo} waiting for you</strong>
            {summary.reading > 0 && <span className="muted"> · {summary.reading} names still being read</span>}
          </p>
        )}
        {skipped !== null && skipped.skipped.length > 0 && (
          <details className="roster-skipped" open data-testid="roster-skipped">
            <summary>{pluralize(skipped.skipped.length, 'line')} of the file left out</summary>
            <ul>
              {skipped.skipped.map((s) => (
                <li key={s.line}>
                  Line {s.line}: {s.reason}
                </li>
              ))}
            </ul>
          </details>
        )}
      </section>
      {ordered.length === 0 ? (
        <p className="empty">Import the class on the Class tab: each script&rsquo;s name box is read here.</p>
      ) : (
        <div className="matching-body">
          <nav className="card matching-scripts" aria-labelledby={`${id}-scripts`}>
            <h2 id={`${id}-scripts`} className="card-title">
              Scripts
            </h2>
            {(['todo', 'auto', 'done'] as const).map((group) => {
              const inGroup = ordered.filter((r) => matchGroup(r) === group);
              if (inGroup.length === 0) return null;
              return (
                <div key={group} className="matching-group">
                  <h3 className="matching-group-title">
                    {GROUP_TITLE[group]} ({inGroup.length})
                  </h3>
                  <ul>
                    {inGroup.map((row) => (
                      <li key={row.submission_id}>
                        <button
                          type="button"
                          className={`matching-script${row === current ? ' is-selected' : ''}`}
                          aria-current={row === current}
                          data-testid={`script-${row.submission_id}`}
                          onClick={() => setSelected(row.submission_id)}
                        >
                          <span className="matching-script-name">{scriptLabel(row)}</span>
                          <span className="muted small">{row.source}</span>
                        </button>
                      </li>
                    ))}
                  </ul>
                </div>
              );
            })}
          </nav>
          {current && (
            <ScriptMatch
              // A fresh search and preselection whenever the script's match changes.
              key={`${current.submission_id}:${current.status}:${current.roster_id ?? ''}:${current.no_student}`}
              row={current}
              entries={entries}
              busy={choose.isPending}
              onChoose={(rosterId) => choose.mutate({ row: current, rosterId })}
              onStep={(delta) => {
                const at = ordered.indexOf(current);
                const next = ordered[Math.min(Math.max(at + delta, 0), ordered.length - 1)];
                if (next) setSelected(next.submission_id);
              }}
            />
          )}
        </div>
      )}
      {absent.length > 0 && ordered.length > 0 && (
        <section className="card" aria-labelledby={`${id}-absent`} data-testid="absent-students">
          <h2 id={`${id}-absent`} className="card-title">
            On the roster, no script ({absent.length})
          </h2>
          <p className="hint">Absent, or their script waits above.</p>
          <ul className="absent-list">
            {absent.map((e) => (
              <li key={e.id}>
                {e.name}
                {e.student_id && <span className="muted"> · {e.student_id}</span>}
              </li>
            ))}
          </ul>
        </section>
      )}
    </div>
  );
}

/** The script's line in the list: its student, what was read, or its source. */
function scriptLabel(row: MatchRow): string {
  if (row.student !== null) return row.student;
  if (row.no_student) return 'Not on the roster';
  return row.read_name ? `“${row.read_name}”` : 'Unread name';
}

type ScriptProps = {
  row: MatchRow;
  entries: RosterEntry[];
  busy: boolean;
  onChoose: (rosterId: string | null) => void;
  onStep: (delta: number) => void;
};

/** One script: its name and ID boxes, what was read, and the roster to pick its student from. */
function ScriptMatch({ row, entries, busy, onChoose, onStep }: ScriptProps) {
  const id = useId();
  const [query, setQuery] = useState('');
  const shown = useMemo(() => freeFirst(filterRoster(entries, query), row.submission_id), [entries, query, row]);
  // The teacher's pick; until then the script's student or suggestion (the roster may load later).
  const [picked, setHighlight] = useState<number | null>(null);
  const highlight = picked ?? preselected(row, entries);
  // Nothing is chosen for the teacher unless the matching suggested it or they typed.
  const highlighted = shown.find((e) => e.id === highlight) ?? (query.trim() !== '' ? shown[0] : undefined);
  const listRef = useRef<HTMLUListElement>(null);

  useEffect(() => {
    if (highlighted === undefined) return;
    listRef.current?.querySelector(`[data-entry="${highlighted.id}"]`)?.scrollIntoView?.({ block: 'nearest' });
  }, [highlighted]);

  const onKey = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.altKey && (e.key === 'ArrowDown' || e.key === 'ArrowUp')) {
      e.preventDefault();
      onStep(e.key === 'ArrowDown' ? 1 : -1);
      return;
    }
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      if (shown.length === 0) return;
      const at = highlighted ? shown.indexOf(highlighted) : -1;
      const next = e.key === 'ArrowDown' ? Math.min(at + 1, shown.length - 1) : Math.max(at - 1, 0);
      const entry = shown[next];
      if (entry) setHighlight(entry.id);
    } else if (e.key === 'Enter') {
      e.preventDefault();
      if (highlighted && !busy) onChoose(highlighted.roster_id);
    } else if (e.key === 'Escape') {
      setQuery('');
    }
  };

  const holderOf = (entry: RosterEntry) =>
    entry.submission_id !== null && entry.submission_id !== row.submission_id ? entry.submission_id : null;

  return (
    <section className="card matching-detail" aria-labelledby={`${id}-title`} data-testid="match-detail">
      <div className="card-head">
        <h2 id={`${id}-title`} className="card-title">
          {row.student ?? (row.no_student ? 'Not on the roster' : 'Who wrote this script?')}
        </h2>
        <span className={`pill ${STATUS_PILL[matchGroup(row)]}`} data-testid="match-status">
          {statusText(row)}
        </span>
      </div>
      <p className="muted small">{row.source}</p>
      <div className="name-boxes">
        {row.name_crop !== null && (
          <img
            className="name-box"
            data-testid="name-crop"
            src={nameBoxUrl(row.submission_id, 'name', row.name_crop)}
            alt={`Name box of ${row.source}`}
          />
        )}
        {row.id_crop !== null && (
          <img
            className="name-box"
            data-testid="id-crop"
            src={nameBoxUrl(row.submission_id, 'idbox', row.id_crop)}
            alt={`Student ID box of ${row.source}`}
          />
        )}
      </div>
      <p data-testid="read-text">
        <span className="muted">Read: </span>
        {readText(row)}
      </p>
      <label htmlFor={`${id}-search`}>
        Student
      </label>
      <input
        id={`${id}-search`}
        className="roster-search"
        data-testid="roster-search"
        type="search"
        autoFocus
        placeholder="Type a name or ID"
        value={query}
        aria-controls={`${id}-list`}
        aria-activedescendant={highlighted ? `${id}-e${highlighted.id}` : undefined}
        onChange={(e) => setQuery(e.target.value)}
        onKeyDown={onKey}
      />
      {entries.length === 0 ? (
        <p className="empty">Import the roster first.</p>
      ) : (
        <ul id={`${id}-list`} role="listbox" ref={listRef} className="roster-list" aria-label="Roster">
          {shown.length === 0 && <li className="muted">Nobody on the roster is called that.</li>}
          {shown.map((entry) => {
            const holder = holderOf(entry);
            const isSuggestion = entry.roster_id === row.suggestion?.roster_id;
            return (
              <li
                key={entry.id}
                id={`${id}-e${entry.id}`}
                role="option"
                aria-selected={entry === highlighted}
                data-entry={entry.id}
                data-testid={`entry-${entry.roster_id}`}
                className={`roster-option${entry === highlighted ? ' is-highlighted' : ''}`}
                onMouseEnter={() => setHighlight(entry.id)}
                onClick={() => !busy && onChoose(entry.roster_id)}
              >
                <span>{entry.name}</span>
                <span className="muted small">
                  {entry.student_id ?? entry.email ?? ''}
                  {isSuggestion && ' · suggested'}
                  {holder !== null && ' · has another script'}
                </span>
              </li>
            );
          })}
        </ul>
      )}
      <div className="matching-actions">
        <button
          type="button"
          className="btn btn-primary"
          data-testid="match-confirm"
          disabled={busy || highlighted === undefined}
          onClick={() => highlighted && onChoose(highlighted.roster_id)}
        >
          {highlighted ? `This is ${highlighted.name}` : 'Choose a student'}
        </button>
        <button
          type="button"
          className="btn"
          data-testid="match-none"
          disabled={busy || row.no_student}
          onClick={() => onChoose(null)}
        >
          {row.student !== null ? 'Unmatch: nobody on the roster' : 'Nobody on the roster'}
        </button>
      </div>
      <p className="shortcuts">↑↓ choose · Enter confirm · Alt+↑↓ another script · Esc clear the search</p>
    </section>
  );
}

const STATUS_PILL: Record<MatchGroup, string> = { todo: 'pill-retrying', auto: 'pill-queued', done: 'pill-done' };

/** The status pill: how the student was decided, with the match's confidence. */
function statusText(row: MatchRow): string {
  const confidence = confidenceText(row.confidence);
  if (row.no_student) return 'Nobody on the roster';
  if (row.status === 'confirmed') return 'Confirmed by you';
  if (row.status === 'auto') return `Matched automatically${confidence ? ` · ${confidence}` : ''}`;
  return row.suggestion ? `Suggestion · ${confidence}` : 'Unmatched';
}
