import type { MatchRow, RosterEntry } from '../api/types';

/**
 * "Éloïse  O'Brien-Núñez" → "eloise o brien nunez": what the roster search compares, so a
 * teacher typing without accents, in any case, still finds the student.
 */
export function foldName(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}@.]+/gu, ' ')
    .trim();
}

/**
 * The roster entries a search matches: every word of the query begins a word of the name
 * (in either order) or appears in the ID or e-mail. An empty query keeps them all.
 */
export function filterRoster(entries: RosterEntry[], query: string): RosterEntry[] {
  const words = foldName(query).split(' ').filter(Boolean);
  if (words.length === 0) return entries;
  return entries.filter((e) => {
    const nameWords = foldName(`${e.first_name} ${e.last_name} ${e.name}`).split(' ');
    const ids = foldName([e.roster_id, e.student_id, e.email, e.login].filter(Boolean).join(' '));
    return words.every((w) => nameWords.some((n) => n.startsWith(w)) || ids.includes(w));
  });
}

/** The roster with the students no other script has first: the likely writers of this one. */
export function freeFirst(entries: RosterEntry[], submissionId: number): RosterEntry[] {
  const taken = (e: RosterEntry) => e.submission_id !== null && e.submission_id !== submissionId;
  return [...entries.filter((e) => !taken(e)), ...entries.filter(taken)];
}

/** Where a script stands for the teacher: the order of the screen's three groups. */
export type MatchGroup = 'todo' | 'auto' | 'done';

/** A script waits for the teacher until it is matched automatically or they decided. */
export function matchGroup(row: MatchRow): MatchGroup {
  if (row.status === 'confirmed' || row.no_student) return 'done';
  if (row.status === 'auto') return 'auto';
  return 'todo';
}

const GROUP_ORDER: Record<MatchGroup, number> = { todo: 0, auto: 1, done: 2 };

/** The scripts in screen order: the teacher's first, then the automatic, then the decided. */
export function orderRows(rows: MatchRow[]): MatchRow[] {
  return rows
    .map((row, i) => ({ row, i }))
    .sort((a, b) => GROUP_ORDER[matchGroup(a.row)] - GROUP_ORDER[matchGroup(b.row)] || a.i - b.i)
    .map(({ row }) => row);
}

/** The roster entry the list starts on for a script: its student, else the suggestion. */
export function preselected(row: MatchRow, entries: RosterEntry[]): number | null {
  const rosterId = row.roster_id ?? row.suggestion?.roster_id ?? null;
  if (rosterId === null) return null;
  return entries.find((e) => e.roster_id === rosterId)?.id ?? null;
}

/** Roster entries no script was given: the students who did not sit (or were not found). */
export function absentStudents(entries: RosterEntry[]): RosterEntry[] {
  return entries.filter((e) => e.submission_id === null);
}

/** Counts for the screen's summary line. */
export function matchSummary(rows: MatchRow[]): { todo: number; auto: number; done: number; reading: number } {
  const summary = { todo: 0, auto: 0, done: 0, reading: 0 };
  for (const row of rows) {
    summary[matchGroup(row)] += 1;
    if (row.read_state === 'queued' || row.read_state === 'reading') summary.reading += 1;
  }
  return summary;
}

/** The next script after `current` that still waits for the teacher (wrapping), else null. */
export function nextTodo(rows: MatchRow[], current: number | null): number | null {
  const todo = rows.filter((r) => matchGroup(r) === 'todo' && r.submission_id !== current);
  if (todo.length === 0) return null;
  const at = rows.findIndex((r) => r.submission_id === current);
  const after = todo.find((r) => rows.indexOf(r) > at);
  return (after ?? todo[0])?.submission_id ?? null;
}

/** "0.93" → "93%", or an empty string when there is no figure. */
export function confidenceText(confidence: number | null): string {
  return confidence === null ? '' : `${Math.round(confidence * 100)}%`;
}

/** What the script's name reading says, in a teacher's words. */
export function readText(row: MatchRow): string {
  switch (row.read_state) {
    case 'none':
      return 'No name or ID box on this exam.';
    case 'queued':
      return 'Waiting to read the name…';
    case 'reading':
      return 'Reading the name…';
    case 'failed':
      return `The name could not be read: ${row.read_error ?? 'unknown error'}.`;
    case 'read':
      if (!row.read_name && !row.read_id) return 'The name box looks blank.';
      return [row.read_name ? `“${row.read_name}”` : null, row.read_id ? `ID ${row.read_id}` : null]
        .filter(Boolean)
        .join(' · ');
  }
}
