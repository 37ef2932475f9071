// What the Template page draws next and what each region is called, as pure functions.
import type { Question, Region, RegionKind } from '../api/types';

/** What a newly drawn region will be: a question's answer, or the name or ID box. */
export type RegionTarget = { kind: RegionKind; questionLabel: string | null };

/** The choices of the "next region" menu, in order: every question, then name and ID. */
export function regionTargets(questions: Question[]): RegionTarget[] {
  return [
    ...questions.map((q) => ({ kind: 'answer' as const, questionLabel: q.label })),
    { kind: 'name', questionLabel: null },
    { kind: 'student_id', questionLabel: null },
  ];
}

/** A stable key for a target (the menu's option values). */
export function targetKey(t: RegionTarget): string {
  return t.kind === 'answer' ? `answer:${t.questionLabel ?? ''}` : t.kind;
}

/** The words for a target or region: "Q1", "Name", "Student ID". */
export function targetLabel(t: RegionTarget): string {
  if (t.kind === 'name') return 'Name';
  if (t.kind === 'student_id') return 'Student ID';
  return t.questionLabel ?? '?';
}

/** The region's target. */
export function regionTarget(r: Region): RegionTarget {
  return { kind: r.kind, questionLabel: r.kind === 'answer' ? r.question_label : null };
}

/**
 * The target the next drag draws: the first one after `current` (in menu order) that has no
 * region yet, else the first without one, else `current` again (a question continued on
 * another page is drawn by choosing it again). So a teacher draws Q1, Q2, Q3, name in turn
 * with one drag each.
 */
export function nextTarget(targets: RegionTarget[], regions: Region[], current: RegionTarget): RegionTarget {
  const drawn = new Set(regions.map((r) => targetKey(regionTarget(r))));
  const at = targets.findIndex((t) => targetKey(t) === targetKey(current));
  const after = [...targets.slice(at + 1), ...targets.slice(0, at + 1)];
  return after.find((t) => !drawn.has(targetKey(t))) ?? current;
}

/** How a region is shown on its box: "Q2 (2 of 2)" for a question's second region. */
export function regionCaption(r: Region, all: Region[]): string {
  const label = targetLabel(regionTarget(r));
  if (r.kind !== 'answer') return label;
  const same = all
    .filter((o) => o.kind === 'answer' && o.question_id === r.question_id)
    .sort((a, b) => a.position - b.position || a.region_id - b.region_id);
  if (same.length < 2) return label;
  return `${label} (${same.findIndex((o) => o.region_id === r.region_id) + 1} of ${same.length})`;
}

/** The sentence a confirmation shows before a region edit grades answers again, or null
 * when nothing graded would change. */
export function regradeWarning(graded: number, answers: number, action: 'move' | 'delete'): string | null {
  if (graded === 0) return null;
  const what = action === 'move' ? 'Changing this region' : 'Deleting this region';
  const some = graded === answers ? `all ${graded}` : `${graded} of the ${answers}`;
  return `${what} cuts every student's answer again: ${some} graded answers would be graded again (the AI's grades and your scores on them are replaced). Go on?`;
}
