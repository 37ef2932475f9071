import { describe, expect, it } from 'vitest';
import type { Event, ItemState, LiveSnapshot } from '../api/types';
import { changed, heartbeat, item, itemEvent, queueEvent, queueStatus, snap } from '../test/fixtures';
import {
  finishedItems,
  GAP_RETRY_MS,
  initialLiveState,
  isLive,
  liveReducer,
  shouldPoll,
  type LiveState,
} from './reducer';

function run(state: LiveState, ...events: Event[]): LiveState {
  return events.reduce((s, event) => liveReducer(s, { type: 'event', event, now: 0 }), state);
}

function withSnapshot(s: LiveSnapshot, state = initialLiveState): LiveState {
  return liveReducer(state, { type: 'snapshot', snapshot: s, now: 0 });
}

const stateOf = (s: LiveState, id: number): ItemState | undefined =>
  s.snapshot?.items.find((i) => i.item_id === id)?.state;

describe('liveReducer', () => {
  it('applies consecutive events in seq order', () => {
    let s = withSnapshot(snap(10, [item(1, 'queued')]));
    s = run(s, itemEvent(11, item(1, 'grading')), itemEvent(12, item(1, 'done')));
    expect(stateOf(s, 1)).toBe('done');
    expect(s.seq).toBe(12);
    expect(s.refetchToken).toBe(0);
  });

  it('buffers an early event and applies it once the missing one arrives', () => {
    let s = withSnapshot(snap(10, [item(1, 'queued')]));
    s = run(s, itemEvent(12, item(1, 'done')));
    // 11 is missing: 12 must wait, and the snapshot is asked for again.
    expect(stateOf(s, 1)).toBe('queued');
    expect(s.seq).toBe(10);
    expect(s.refetchToken).toBe(1);
    s = run(s, itemEvent(11, item(1, 'grading')));
    expect(stateOf(s, 1)).toBe('done');
    expect(s.seq).toBe(12);
    expect(s.pending).toEqual([]);
  });

  it('ignores events whose seq is not above the snapshot seq', () => {
    let s = withSnapshot(snap(10, [item(1, 'done')]));
    s = run(s, itemEvent(9, item(1, 'grading')), itemEvent(10, item(1, 'queued')));
    expect(stateOf(s, 1)).toBe('done');
    expect(s.seq).toBe(10);
    expect(s.refetchToken).toBe(0);
  });

  it('ignores a duplicate event', () => {
    let s = withSnapshot(snap(10, [item(1, 'queued')]));
    s = run(s, itemEvent(11, item(1, 'grading')), itemEvent(12, item(1, 'done')));
    s = run(s, itemEvent(11, item(1, 'grading')));
    expect(stateOf(s, 1)).toBe('done');
  });

  it('asks for a snapshot on a gap and fills the gap from it', () => {
    let s = withSnapshot(snap(10, [item(1, 'queued')]));
    s = run(s, itemEvent(13, item(1, 'done')));
    expect(s.refetchToken).toBe(1);
    s = withSnapshot(snap(12, [item(1, 'grading'), item(2, 'queued')]), s);
    expect(s.seq).toBe(13);
    expect(stateOf(s, 1)).toBe('done');
    expect(stateOf(s, 2)).toBe('queued');
    expect(s.pending).toEqual([]);
  });

  it('asks again while the gap stays open, but not on every tick', () => {
    let s = withSnapshot(snap(10, []));
    s = run(s, heartbeat(14));
    expect(s.refetchToken).toBe(1);
    s = liveReducer(s, { type: 'tick', now: GAP_RETRY_MS - 1 });
    expect(s.refetchToken).toBe(1);
    s = liveReducer(s, { type: 'tick', now: GAP_RETRY_MS });
    expect(s.refetchToken).toBe(2);
  });

  it('asks for a snapshot on "changed"', () => {
    let s = withSnapshot(snap(10, []));
    s = run(s, changed(11));
    expect(s.refetchToken).toBe(1);
    expect(s.seq).toBe(11);
  });

  it('upserts items by item_id and keeps counts and submission totals in step', () => {
    let s = withSnapshot(snap(10, [item(1, 'grading')]));
    s = run(s, itemEvent(11, item(1, 'done')), itemEvent(12, item(2, 'queued')));
    expect(s.snapshot?.items.map((i) => [i.item_id, i.state])).toEqual([
      [1, 'done'],
      [2, 'queued'],
    ]);
    expect(s.snapshot?.counts).toEqual({ queued: 1, running: 0, succeeded: 1, dead: 0, cancelled: 0, batch: 0 });
    expect(s.snapshot?.submissions[0]).toMatchObject({ items: 2, done: 1 });
  });

  it('drops a removed (re-cropped or deleted) answer and its totals, and ignores one it never had', () => {
    let s = withSnapshot(snap(10, [item(1, 'done'), item(2, 'queued')]));
    s = run(
      s,
      itemEvent(11, item(1, 'done', { removed: true })),
      itemEvent(12, item(3, 'cancelled', { removed: true })),
    );
    expect(s.snapshot?.items.map((i) => i.item_id)).toEqual([2]);
    expect(s.snapshot?.counts).toMatchObject({ queued: 1, succeeded: 0, cancelled: 0 });
    expect(s.snapshot?.submissions[0]).toMatchObject({ items: 1, done: 0 });
  });

  it('buffers events that arrive before the first snapshot and keeps only the newer ones', () => {
    let s = run(initialLiveState, itemEvent(9, item(1, 'grading')), itemEvent(11, item(1, 'done')));
    expect(s.snapshot).toBeNull();
    s = withSnapshot(snap(10, [item(1, 'grading')]), s);
    expect(stateOf(s, 1)).toBe('done');
    expect(s.seq).toBe(11);
    expect(s.refetchToken).toBe(0);
  });

  it('replays applied events onto a snapshot that is older than them', () => {
    let s = withSnapshot(snap(10, [item(1, 'queued')]));
    s = run(s, itemEvent(11, item(1, 'grading')), heartbeat(12), itemEvent(13, item(1, 'done')));
    // A refetch answered with state from seq 11.
    s = withSnapshot(snap(11, [item(1, 'grading')]), s);
    expect(stateOf(s, 1)).toBe('done');
    expect(s.seq).toBe(13);
    s = run(s, heartbeat(14));
    expect(s.seq).toBe(14);
    expect(s.refetchToken).toBe(0);
  });

  it('drops a late snapshot older than the one it already has', () => {
    let s = withSnapshot(snap(20, [item(1, 'done')]));
    s = withSnapshot(snap(15, [item(1, 'queued')]), s);
    expect(stateOf(s, 1)).toBe('done');
    expect(s.seq).toBe(20);
  });

  it('marks the heartbeat time, even for a heartbeat it otherwise ignores', () => {
    let s = withSnapshot(snap(10, []));
    s = liveReducer(s, { type: 'event', event: heartbeat(5), now: 1234 });
    expect(s.lastHeartbeatAt).toBe(1234);
    expect(s.seq).toBe(10);
  });
});

describe('liveness and polling', () => {
  it('is live while the last heartbeat is younger than 4 s', () => {
    expect(isLive(null, 0)).toBe(false);
    expect(isLive(1000, 4999)).toBe(true);
    expect(isLive(1000, 5000)).toBe(false);
  });

  it('polls only when stale and something is still being graded', () => {
    const grading = withSnapshot(snap(1, [item(1, 'grading')]));
    const settled = withSnapshot(snap(1, [item(1, 'done'), item(2, 'failed')]));
    const fresh = { ...grading, lastHeartbeatAt: 10_000 };
    expect(shouldPoll(grading, 0)).toBe(true);
    expect(shouldPoll(settled, 0)).toBe(false);
    expect(shouldPoll(fresh, 12_000)).toBe(false);
    expect(shouldPoll(fresh, 14_000)).toBe(true);
    for (const st of ['queued', 'retrying'] as const) {
      expect(shouldPoll(withSnapshot(snap(1, [item(1, st)])), 0)).toBe(true);
    }
  });
});

describe('finishedItems', () => {
  it('reports items that became done or failed, once', () => {
    const a = snap(1, [item(1, 'grading'), item(2, 'grading'), item(3, 'done')]);
    const b = snap(2, [item(1, 'done'), item(2, 'failed'), item(3, 'done')]);
    expect(finishedItems(a, b, false).map((i) => i.item_id)).toEqual([1, 2]);
    expect(finishedItems(b, b, false)).toEqual([]);
  });

  it('reports unknown items only for live events, never for the first snapshot', () => {
    const a = snap(1, []);
    const b = snap(2, [item(1, 'done')]);
    expect(finishedItems(a, b, true)).toHaveLength(1);
    expect(finishedItems(a, b, false)).toHaveLength(0);
    expect(finishedItems(null, b, true)).toHaveLength(0);
  });
});

describe('liveReducer: queue events', () => {
  it('replaces the queue status without asking for a snapshot', () => {
    let s = withSnapshot(snap(10, [item(1, 'queued')], { queue: queueStatus() }));
    const paused = queueStatus({ pauses: [{ scope: { scope: 'all' }, reason: 'paused by the teacher', until_ms: null }] });
    s = run(s, queueEvent(11, paused));
    expect(s.snapshot?.queue).toEqual(paused);
    expect(s.seq).toBe(11);
    expect(s.refetchToken).toBe(0);
    // Items are untouched.
    expect(stateOf(s, 1)).toBe('queued');
  });

  it('adds a queue status to a snapshot that had none', () => {
    let s = withSnapshot(snap(3, []));
    expect(s.snapshot?.queue).toBeUndefined();
    s = run(s, queueEvent(4, queueStatus({ halted: 'No API key is set.' })));
    expect(s.snapshot?.queue?.halted).toBe('No API key is set.');
  });

  it('ignores a queue event older than the snapshot', () => {
    let s = withSnapshot(snap(10, [], { queue: queueStatus({ halted: null }) }));
    s = run(s, queueEvent(9, queueStatus({ halted: 'old' })));
    expect(s.snapshot?.queue?.halted).toBeNull();
  });

  it('replays a newer queue event onto an older refetched snapshot', () => {
    let s = withSnapshot(snap(10, [], { queue: queueStatus() }));
    const held = queueStatus({ provider: { hold: 'offline', next_try_at_ms: 123 } });
    s = run(s, queueEvent(11, held), queueEvent(13, queueStatus()));
    // 12 missing: a refetch was requested; the refetched snapshot (seq 11) predates nothing.
    s = withSnapshot(snap(10, [], { queue: queueStatus() }), s);
    expect(s.snapshot?.queue?.provider.hold).toBe('offline');
  });
});

