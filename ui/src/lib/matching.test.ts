import { describe, expect, it } from 'vitest';
import { matchRow as row, rosterEntry as entry } from '../test/fixtures';
import {
  absentStudents,
  filterRoster,
  freeFirst,
  foldName,
  matchGroup,
  matchSummary,
  nextTodo,
  orderRows,
  preselected,
  readText,
} from './matching';

const roster = [
  entry(1, 'Éloïse', 'Núñez'),
  entry(2, 'Marie', 'Curie'),
  entry(3, 'Marie', 'Dubois'),
  entry(4, 'Chidi', "O'Brien-Okafor"),
];

describe('the roster search', () => {
  it('folds accents, case and punctuation', () => {
    expect(foldName("  Éloïse O'Brien-NÚÑEZ ")).toBe('eloise o brien nunez');
  });

  it('finds a student typed without accents, in either order, by prefixes', () => {
    expect(filterRoster(roster, 'nunez').map((e) => e.id)).toEqual([1]);
    expect(filterRoster(roster, 'elo nun').map((e) => e.id)).toEqual([1]);
    expect(filterRoster(roster, 'NUN elo').map((e) => e.id)).toEqual([1]);
    expect(filterRoster(roster, 'obrien').map((e) => e.id)).toEqual([]);
    expect(filterRoster(roster, 'o brien').map((e) => e.id)).toEqual([4]);
  });

  it('keeps both students who share a first name, and tells them apart by the surname', () => {
    expect(filterRoster(roster, 'marie').map((e) => e.id)).toEqual([2, 3]);
    expect(filterRoster(roster, 'marie d').map((e) => e.id)).toEqual([3]);
  });

  it('finds by ID and e-mail, and keeps everyone for an empty query', () => {
    expect(filterRoster(roster, '20260003').map((e) => e.id)).toEqual([3]);
    expect(filterRoster(roster, 'chidi@').map((e) => e.id)).toEqual([4]);
    expect(filterRoster(roster, '   ')).toHaveLength(4);
  });
});

describe('the scripts', () => {
  const rows = [
    row(1, { status: 'confirmed', roster_id: '20260001', student: 'Núñez, Éloïse' }),
    row(2, { status: 'auto', roster_id: '20260002', confidence: 0.97 }),
    row(3, { suggestion: { entry_id: 3, roster_id: '20260003', student: 'Dubois, Marie' }, confidence: 0.7 }),
    row(4, { no_student: true }),
    row(5, { read_state: 'reading' }),
  ];

  it('puts the ones waiting for the teacher first, then the automatic, then the decided', () => {
    expect(rows.map(matchGroup)).toEqual(['done', 'auto', 'todo', 'done', 'todo']);
    expect(orderRows(rows).map((r) => r.submission_id)).toEqual([3, 5, 2, 1, 4]);
    expect(matchSummary(rows)).toEqual({ todo: 2, auto: 1, done: 2, reading: 1 });
  });

  it('starts the list on the matched student, else on the suggestion, else nowhere', () => {
    expect(preselected(rows[0]!, roster)).toBe(1);
    expect(preselected(rows[2]!, roster)).toBe(3);
    expect(preselected(rows[4]!, roster)).toBeNull();
  });

  it('goes on to the next script that waits, wrapping, and stops when none is left', () => {
    const ordered = orderRows(rows);
    expect(nextTodo(ordered, 3)).toBe(5);
    expect(nextTodo(ordered, 5)).toBe(3);
    expect(nextTodo(ordered, 2)).toBe(3);
    expect(nextTodo([row(9, { status: 'confirmed' })], 9)).toBeNull();
  });

  it('lists the students without another script first', () => {
    const given = roster.map((e) => (e.id === 1 ? { ...e, submission_id: 7 } : e.id === 3 ? { ...e, submission_id: 8 } : e));
    expect(freeFirst(given, 8).map((e) => e.id)).toEqual([2, 3, 4, 1]);
  });

  it('lists the students no script was given', () => {
    const given = roster.map((e) => (e.id === 2 ? { ...e, submission_id: 7 } : e));
    expect(absentStudents(given).map((e) => e.id)).toEqual([1, 3, 4]);
  });

  it('says what the reading found, a blank box, or why it failed', () => {
    expect(readText(row(1, { read_name: 'Eloise Nunez', read_id: '20260001' }))).toBe('“Eloise Nunez” · ID 20260001');
    expect(readText(row(1))).toBe('The name box looks blank.');
    expect(readText(row(1, { read_state: 'failed', read_error: 'the key was refused' }))).toBe(
      'The name could not be read: the key was refused.',
    );
  });
});
