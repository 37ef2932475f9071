// Pure state machine behind the live view: a snapshot from the core plus the
// `gradedesk:event` stream applied on top of it, strictly in `seq` order.
//
// Rules (ARCHITECTURE.md, "IPC contract"):
// - events with seq <= the applied seq are ignored;
// - events are applied in seq order; an event that arrives early is buffered;
// - a gap (an event with seq > last + 1) asks for a snapshot refetch;
// - `changed` asks for a snapshot refetch; `item` upserts by item_id;
// - `queue` replaces the snapshot's queue status (progress, pauses, provider, halt);
// - a heartbeat only marks the core alive.
import type {
  Event,
  ItemState,
  ItemView,
  JobCountKey,
  LiveSnapshot,
  SubmissionSummary,
} from '../api/types';

export const STALE_AFTER_MS = 4000; // two heartbeat periods
export const POLL_EVERY_MS = 5000;
/** While a gap is still open this long after asking for a snapshot, ask again. */
export const GAP_RETRY_MS = 5000;
/** Applied events kept for replaying on top of an older snapshot. */
const LOG_LIMIT = 20000;

export type LiveState = {
  /** The current view: the last accepted snapshot with every applied event on top. */
  snapshot: LiveSnapshot | null;
  /** seq of the last accepted snapshot. */
  baseSeq: number;
  /** seq of the last applied event (or of the snapshot). */
  seq: number;
  /** Events received ahead of order (seq > seq + 1), ascending, unique. */
  pending: Event[];
  /** Applied `item` events with seq > baseSeq, replayed onto a snapshot older than them. */
  log: Event[];
  /** A snapshot with seq below this cannot be rebuilt from the log. */
  logFloor: number;
  /** Local clock (ms) when the last heartbeat arrived. */
  lastHeartbeatAt: number | null;
  /** Increments whenever the snapshot must be fetched again. */
  refetchToken: number;
  /** When a refetch was last asked for because of a gap (null: no open gap request). */
  gapRefetchAt: number | null;
};

export type LiveAction =
  | { type: 'snapshot'; snapshot: LiveSnapshot; now: number }
  | { type: 'event'; event: Event; now: number }
  | { type: 'tick'; now: number };

export const initialLiveState: LiveState = {
  snapshot: null,
  baseSeq: -1,
  seq: -1,
  pending: [],
  log: [],
  logFloor: -1,
  lastHeartbeatAt: null,
  refetchToken: 0,
  gapRefetchAt: null,
};

const ACTIVE: ReadonlySet<ItemState> = new Set<ItemState>(['queued', 'grading', 'retrying']);

export function isActive(state: ItemState): boolean {
  return ACTIVE.has(state);
}

export function hasActiveItems(snapshot: LiveSnapshot | null): boolean {
  return snapshot !== null && snapshot.items.some((i) => isActive(i.state));
}

/** "Live" while the last heartbeat is younger than two periods. */
export function isLive(lastHeartbeatAt: number | null, now: number, staleMs = STALE_AFTER_MS): boolean {
  return lastHeartbeatAt !== null && now - lastHeartbeatAt < staleMs;
}

/** Poll the snapshot only while the event stream looks dead and an answer is still in flight. */
export function shouldPoll(state: LiveState, now: number, staleMs = STALE_AFTER_MS): boolean {
  return !isLive(state.lastHeartbeatAt, now, staleMs) && hasActiveItems(state.snapshot);
}

/** The job-count bucket an item's state belongs to. */
export function countKey(state: ItemState): JobCountKey {
  switch (state) {
    case 'queued':
    case 'retrying':
      return 'queued';
    case 'grading':
      return 'running';
    case 'done':
      return 'succeeded';
    case 'failed':
      return 'dead';
    case 'cancelled':
      return 'cancelled';
    case 'waiting':
    case 'in_batch':
      return 'batch';
  }
}

function updateSubmission<S extends SubmissionSummary>(
  subs: S[],
  id: number,
  dItems: number,
  dDone: number,
): S[] {
  if (dItems === 0 && dDone === 0) return subs;
  return subs.map((s) =>
    s.id === id
      ? { ...s, items: Math.max(0, s.items + dItems), done: Math.max(0, s.done + dDone) }
      : s,
  );
}

/** Inserts or replaces an item (by item_id), keeping counts and submission totals in step. */
export function upsertItem(snapshot: LiveSnapshot, item: ItemView): LiveSnapshot {
  const idx = snapshot.items.findIndex((i) => i.item_id === item.item_id);
  const prev = idx >= 0 ? snapshot.items[idx] : undefined;
  if (item.removed === true) return removeItem(snapshot, prev);
  const items = prev
    ? snapshot.items.map((i, k) => (k === idx ? item : i))
    : [...snapshot.items, item];

  const counts = { ...snapshot.counts };
  if (prev) {
    const k = countKey(prev.state);
    counts[k] = Math.max(0, counts[k] - 1);
  }
  counts[countKey(item.state)] += 1;

  const wasDone = prev?.state === 'done' ? 1 : 0;
  const isDone = item.state === 'done' ? 1 : 0;
  const submissions = updateSubmission(
    snapshot.submissions,
    item.submission_id,
    prev ? 0 : 1,
    isDone - wasDone,
  );
  return { ...snapshot, items, counts, submissions };
}

/** Drops a re-cropped or deleted answer (if the view has it), keeping the totals in step. */
function removeItem(snapshot: LiveSnapshot, prev: ItemView | undefined): LiveSnapshot {
  if (!prev) return snapshot;
  const items = snapshot.items.filter((i) => i.item_id !== prev.item_id);
  const counts = { ...snapshot.counts };
  const k = countKey(prev.state);
  counts[k] = Math.max(0, counts[k] - 1);
  const submissions = updateSubmission(
    snapshot.submissions,
    prev.submission_id,
    -1,
    prev.state === 'done' ? -1 : 0,
  );
  return { ...snapshot, items, counts, submissions };
}

function requestRefetch(s: LiveState): LiveState {
  return { ...s, refetchToken: s.refetchToken + 1 };
}

/** Applies the data part of one event (no ordering checks). */
function applyData(s: LiveState, e: Event): LiveState {
  if (s.snapshot === null) return s;
  switch (e.type) {
    case 'item':
      return { ...s, snapshot: upsertItem(s.snapshot, e.item) };
    case 'queue':
      return { ...s, snapshot: { ...s.snapshot, queue: e.status } };
    case 'changed':
      return requestRefetch(s);
    case 'heartbeat':
      return s;
  }
}

function appendLog(s: LiveState, e: Event): LiveState {
  // Only item and queue events are replayed. A `changed` needs no replay: the refetch it
  // triggers starts after it (an older in-flight request is cancelled), so that snapshot
  // includes it.
  if (e.type !== 'item' && e.type !== 'queue') return s;
  let log = [...s.log, e];
  let logFloor = s.logFloor;
  if (log.length > LOG_LIMIT) {
    const dropped = log.slice(0, log.length - LOG_LIMIT / 2);
    logFloor = dropped[dropped.length - 1]?.seq ?? logFloor;
    log = log.slice(dropped.length);
  }
  return { ...s, log, logFloor };
}

function insertPending(pending: Event[], e: Event): Event[] {
  if (pending.some((p) => p.seq === e.seq)) return pending;
  const next = [...pending, e];
  next.sort((a, b) => a.seq - b.seq);
  return next;
}

/** Applies every buffered event that is next in line; asks for a snapshot if a gap remains. */
function drain(state: LiveState, now: number): LiveState {
  let s = state;
  let k = 0;
  while (k < s.pending.length && s.pending[k]!.seq <= s.seq + 1) {
    const e = s.pending[k]!;
    k += 1;
    if (e.seq <= s.seq) continue;
    s = appendLog(applyData(s, e), e);
    s = { ...s, seq: e.seq };
  }
  if (k > 0) s = { ...s, pending: s.pending.slice(k) };

  if (s.pending.length === 0) return s.gapRefetchAt === null ? s : { ...s, gapRefetchAt: null };
  // A gap: events after `seq` are missing. Ask once; `tick` asks again if it stays open.
  if (s.gapRefetchAt === null) return { ...requestRefetch(s), gapRefetchAt: now };
  return s;
}

function acceptSnapshot(state: LiveState, snap: LiveSnapshot, now: number): LiveState {
  if (state.snapshot !== null) {
    // Older than the snapshot we already built on: a late response, drop it.
    if (snap.seq < state.baseSeq) return state;
    // Events between it and what we applied were trimmed from the log: can't rebuild.
    if (snap.seq < state.seq && snap.seq < state.logFloor) return requestRefetch(state);
  }

  const hadSnapshot = state.snapshot !== null;
  const replay = hadSnapshot ? state.log.filter((e) => e.seq > snap.seq) : [];
  let s: LiveState = {
    ...state,
    snapshot: snap,
    baseSeq: snap.seq,
    seq: hadSnapshot ? Math.max(snap.seq, state.seq) : snap.seq,
    log: replay,
    logFloor: -1,
    gapRefetchAt: null,
  };
  // Events we had already applied but that are newer than this snapshot: apply them again.
  for (const e of replay) s = applyData(s, e);
  s = { ...s, pending: s.pending.filter((e) => e.seq > s.seq) };
  return drain(s, now);
}

function receiveEvent(state: LiveState, e: Event, now: number): LiveState {
  let s = state;
  // Any heartbeat proves the core is alive, even one we otherwise ignore.
  if (e.type === 'heartbeat') s = { ...s, lastHeartbeatAt: now };
  if (s.snapshot === null) {
    // No snapshot yet: keep everything; it is filtered against the snapshot's seq later.
    return { ...s, pending: insertPending(s.pending, e) };
  }
  if (e.seq <= s.seq) return s;
  return drain({ ...s, pending: insertPending(s.pending, e) }, now);
}

export function liveReducer(state: LiveState, action: LiveAction): LiveState {
  switch (action.type) {
    case 'snapshot':
      return acceptSnapshot(state, action.snapshot, action.now);
    case 'event':
      return receiveEvent(state, action.event, action.now);
    case 'tick':
      if (
        state.snapshot !== null &&
        state.pending.length > 0 &&
        state.gapRefetchAt !== null &&
        action.now - state.gapRefetchAt >= GAP_RETRY_MS
      ) {
        return { ...requestRefetch(state), gapRefetchAt: action.now };
      }
      return state;
  }
}

/**
 * Items that reached `done` or `failed` between two views. An item the previous view did not
 * know counts only when it arrived as a live event (a first snapshot announces nothing).
 */
export function finishedItems(
  prev: LiveSnapshot | null,
  next: LiveSnapshot | null,
  includeNew: boolean,
): ItemView[] {
  if (prev === null || next === null || prev === next) return [];
  const before = new Map(prev.items.map((i) => [i.item_id, i.state] as const));
  return next.items.filter((i) => {
    if (i.state !== 'done' && i.state !== 'failed') return false;
    const was = before.get(i.item_id);
    return was === undefined ? includeNew : was !== i.state;
  });
}
