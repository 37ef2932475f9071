import type { DropReport, FileDrag } from '../api/types';
import { pluralize } from './format';

/** What the overlay shows while files are dragged over the window. */
export type DragView = { over: false } | { over: true; count: number };

/** Follows the webview's drag events: `enter` shows the overlay, `drop`/`leave` hide it. */
export function nextDragView(view: DragView, drag: FileDrag): DragView {
  switch (drag.type) {
    case 'enter':
      return { over: true, count: drag.paths.length };
    case 'over':
      return view.over ? view : { over: true, count: 0 };
    case 'drop':
    case 'leave':
      return { over: false };
  }
}

export type DropToast = { kind: 'success' | 'error' | 'info'; message: string; description?: string };

/** Most file names listed in one toast; the rest are counted. */
const LIST_LIMIT = 4;

function listNotes(notes: { file: string; reason: string }[]): string {
  const shown = notes.slice(0, LIST_LIMIT).map((n) => `${n.file}: ${n.reason}`);
  if (notes.length > LIST_LIMIT) shown.push(`and ${notes.length - LIST_LIMIT} more`);
  return shown.join('\n');
}

/** The toasts that tell the teacher what a drop did, file by file when something went wrong. */
export function dropToasts(report: DropReport): DropToast[] {
  const out: DropToast[] = [];
  const { imported, skipped, failed } = report;
  if (imported.length > 0) {
    const pages = imported.reduce((n, r) => n + r.pages, 0);
    out.push({
      kind: 'success',
      message: imported.length === 1 ? `Imported ${imported[0]!.file}` : `Imported ${pluralize(imported.length, 'scan')}`,
      description: pluralize(pages, 'page'),
    });
  }
  if (failed.length > 0) {
    out.push({ kind: 'error', message: `${pluralize(failed.length, 'file')} could not be imported`, description: listNotes(failed) });
  }
  if (skipped.length > 0) {
    out.push({ kind: 'info', message: `${pluralize(skipped.length, 'file')} skipped`, description: listNotes(skipped) });
  }
  if (out.length === 0) out.push({ kind: 'info', message: 'No scans were found in what you dropped.' });
  return out;
}

/** Why a drop cannot be imported now, or null when it can. */
export function dropRefusal(examId: number | null, busy: boolean): string | null {
  if (examId === null) return 'Create an exam first: dropped scans are imported into the selected exam.';
  if (busy) return 'Wait for the current import to finish, then drop again.';
  return null;
}
