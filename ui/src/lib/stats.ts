// What the statistics page computes from the core's figures: how each number is shown, the
// chart rows, the confusion heatmap's shades, the sentence on whether to trust the AI on a
// question, and the export menu's file names. Pure functions, tested in stats.test.ts.
import type { Agreement, Bin, Format } from '../api/types';
import { formatPoints } from './format';

/** A figure with two decimals, or "–" when there is none. */
export function fig(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  return x.toFixed(2);
}

/** A share (0..1) as a percentage, "–" when there is none. */
export function pct(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  return `${Math.round(x * 100)}%`;
}

export type BarRow = { label: string; count: number };

/** A question's histogram: one bar per score level, labelled by its level ("1.5"). */
export function levelBars(bins: Bin[]): BarRow[] {
  return bins.map((b) => ({ label: formatPoints((b.lo + b.hi) / 2), count: b.count }));
}

/** The totals' histogram: one bar per range, labelled "0–1.5". */
export function rangeBars(bins: Bin[]): BarRow[] {
  return bins.map((b) => ({ label: `${formatPoints(b.lo)}–${formatPoints(b.hi)}`, count: b.count }));
}

/** A heatmap cell's shade: 0 (none) .. 1 (the most common cell). */
export function shade(count: number, confusion: number[][]): number {
  const top = Math.max(0, ...confusion.flat());
  return top === 0 ? 0 : count / top;
}

export type Trust = { level: 'trust' | 'check' | 'review' | 'unknown'; text: string };

/** Whether the AI can be trusted on a question, from the answers the teacher reviewed:
 * kappa ≥ 0.8 and ≥ 10 answers: trust; ≥ 0.6: spot-check; below: review every answer. */
export function trust(a: Agreement): Trust {
  if (a.n === 0) return { level: 'unknown', text: 'No answer reviewed yet: review some to see how far the AI agrees.' };
  const few = a.n < 10 ? ` (only ${a.n} reviewed so far)` : '';
  if (a.qwk === null) {
    return { level: 'unknown', text: `Every reviewed score is on one level: kappa is undefined${few}.` };
  }
  if (a.qwk >= 0.8 && a.n >= 10) {
    return { level: 'trust', text: `The AI agrees closely with you (kappa ${fig(a.qwk)}).` };
  }
  if (a.qwk >= 0.6) return { level: 'check', text: `The AI mostly agrees (kappa ${fig(a.qwk)}): spot-check${few}.` };
  return { level: 'review', text: `The AI often disagrees (kappa ${fig(a.qwk)}): review every answer${few}.` };
}

export const FORMAT_LABELS: { format: Format; label: string }[] = [
  { format: 'csv', label: 'Gradebook CSV (a row per student)' },
  { format: 'csv-long', label: 'Answers CSV (a row per answer, with feedback)' },
  { format: 'canvas', label: 'Canvas gradebook import' },
  { format: 'moodle', label: 'Moodle grade import' },
  { format: 'classroom', label: 'Google Classroom grades' },
  { format: 'xlsx', label: 'Excel workbook (XLSX)' },
];

/** A file-system-safe short form of the exam's name: "Physics — mid-term" → "Physics-mid-term". */
export function slug(name: string): string {
  const s = name
    .normalize('NFC')
    .replace(/[^\p{L}\p{N}]+/gu, '-')
    .replace(/^-+|-+$/g, '');
  return s === '' ? 'exam' : s.slice(0, 60);
}

/** The file an export suggests in `folder`: "<folder>/<exam>-<format>.<ext>". */
export function suggestedFile(folder: string, examName: string, format: Format): string {
  const ext = format === 'xlsx' ? 'xlsx' : 'csv';
  const sep = folder.includes('\\') && !folder.includes('/') ? '\\' : '/';
  const base = folder.replace(/[\\/]+$/, '');
  return `${base}${sep}${slug(examName)}-${format}.${ext}`;
}

/** The folder feedback PDFs suggest: "<folder>/<exam>-feedback". */
export function suggestedFeedbackFolder(folder: string, examName: string): string {
  const sep = folder.includes('\\') && !folder.includes('/') ? '\\' : '/';
  return `${folder.replace(/[\\/]+$/, '')}${sep}${slug(examName)}-feedback`;
}
