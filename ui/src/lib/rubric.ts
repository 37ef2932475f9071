// Rubric lines with their points. The core stores a rubric as text; lines with points are
// written "- text (N pts)" (see exams.rs `rubric_lines_text`), which the editor reads back.

export type RubricLine = { text: string; points: number | null };

const LINE = /^\s*[-•*]\s*(.*?)\s*\((\d+(?:\.\d+)?)\s*pts?\)\s*$/;

/** Splits a stored rubric into lines; a line without "(N pts)" keeps its text and no points. */
export function parseRubric(text: string): RubricLine[] {
  return text
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const m = LINE.exec(l);
      if (m) return { text: m[1] ?? '', points: Number(m[2]) };
      return { text: l.replace(/^\s*[-•*]\s*/, '').trim(), points: null };
    });
}

/** The text form the core stores and the grader reads: "- text (N pts)" per line. */
export function formatRubric(lines: RubricLine[]): string {
  return lines
    .filter((l) => l.text.trim() !== '')
    .map((l) => (l.points === null ? `- ${l.text.trim()}` : `- ${l.text.trim()} (${l.points} ${l.points === 1 ? 'pt' : 'pts'})`))
    .join('\n');
}

/** The points the lines add up to (lines without points count nothing). */
export function rubricTotal(lines: RubricLine[]): number {
  return lines.reduce((sum, l) => sum + (l.text.trim() !== '' && l.points !== null ? l.points : 0), 0);
}
