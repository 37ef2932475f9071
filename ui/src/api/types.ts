// The IPC contract with the Rust core (see ARCHITECTURE.md, "IPC contract").
// Every type that crosses IPC is generated from the Rust structs into ./generated.ts
// (src-tauri/src/wire.rs; `make types`); this file re-exports them and adds only what the
// UI itself defines (argument shapes, constants, the webview's drag-and-drop).
import type { Bbox, Counts, DeskSnapshot, ItemState, Snapshot } from './generated';

export type * from './generated';

export const ITEM_STATES: readonly ItemState[] = [
  'queued',
  'grading',
  'retrying',
  'done',
  'failed',
  'cancelled',
  'waiting',
  'in_batch',
];

export type JobCountKey = keyof Counts;

/** What the live view holds: a `snapshot`, or a `desk_snapshot` with the queue's state
 * (kept current by `queue` events). */
export type LiveSnapshot = Snapshot & { queue?: DeskSnapshot['queue'] };

export type CreateItemArgs = {
  submissionId: number;
  pageNumber: number;
  questionLabel: string;
  bbox: Bbox;
};

export const CORE_EVENT = 'gradedesk:event';
export const HEARTBEAT_PERIOD_MS = 2000;

/** The webview's file drag-and-drop, as the UI uses it (paths are on the teacher's disk). */
export type FileDrag =
  | { type: 'enter'; paths: string[] }
  | { type: 'over' }
  | { type: 'drop'; paths: string[] }
  | { type: 'leave' };
