import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { act, renderHook } from '@testing-library/react';
import type { ReactNode } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import * as api from '../api';
import type { DeskSnapshot, Event, ItemView, LiveSnapshot } from '../api/types';
import { deskSnap, heartbeat, item, itemEvent } from '../test/fixtures';
import { useLive, type LiveOptions } from './useLive';

vi.mock('../api', async (importOriginal) => {
  const actual = await importOriginal<typeof api>();
  return { ...actual, deskSnapshot: vi.fn(), onCoreEvent: vi.fn() };
});

let emit: (e: Event) => void = () => {
  throw new Error('not subscribed');
};
let served: DeskSnapshot;
const unlisten = vi.fn();

beforeEach(() => {
  vi.useFakeTimers();
  served = deskSnap(10, [item(1, 'queued')]);
  vi.mocked(api.onCoreEvent).mockImplementation((handler) => {
    emit = handler;
    return Promise.resolve(unlisten);
  });
  vi.mocked(api.deskSnapshot).mockImplementation(() => Promise.resolve(structuredClone(served)));
});

afterEach(() => {
  vi.useRealTimers();
});

async function flush(ms = 0) {
  await act(async () => {
    await vi.advanceTimersByTimeAsync(ms);
  });
  // Let promise chains (subscribe → enable query → fetch → store) settle.
  for (let i = 0; i < 3; i += 1) {
    await act(async () => {
      await vi.advanceTimersByTimeAsync(0);
    });
  }
}

async function renderLive(options: LiveOptions = {}) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const wrapper = ({ children }: { children: ReactNode }) => (
    <QueryClientProvider client={client}>{children}</QueryClientProvider>
  );
  const view = renderHook(() => useLive(options), { wrapper });
  await flush();
  return view;
}

function send(...events: Event[]) {
  act(() => {
    for (const e of events) emit(e);
  });
}

const fetches = () => vi.mocked(api.deskSnapshot).mock.calls.length;
const stateOf = (s: LiveSnapshot | null, id: number) => s?.items.find((i) => i.item_id === id)?.state;

/** Sends a heartbeat every 2 s for `ms`, like the core does. */
async function heartbeatsFor(ms: number, firstSeq: number): Promise<number> {
  let seq = firstSeq;
  for (let t = 0; t < ms; t += 2000) {
    send(heartbeat(seq));
    seq += 1;
    await flush(2000);
  }
  return seq;
}

describe('useLive', () => {
  it('subscribes before it fetches the snapshot', async () => {
    const { result } = await renderLive();
    expect(api.onCoreEvent).toHaveBeenCalledTimes(1);
    expect(fetches()).toBe(1);
    expect(vi.mocked(api.onCoreEvent).mock.invocationCallOrder[0]).toBeLessThan(
      vi.mocked(api.deskSnapshot).mock.invocationCallOrder[0]!,
    );
    expect(result.current.snapshot?.seq).toBe(10);
  });

  it('applies events in seq order even when delivered out of order', async () => {
    const { result } = await renderLive();
    send(itemEvent(12, item(1, 'done')));
    expect(stateOf(result.current.snapshot, 1)).toBe('queued');
    send(itemEvent(11, item(1, 'grading')));
    expect(stateOf(result.current.snapshot, 1)).toBe('done');
    // The refetch the gap asked for answers with older state; the events win.
    await flush();
    expect(stateOf(result.current.snapshot, 1)).toBe('done');
    expect(result.current.seq).toBe(12);
  });

  it('ignores events at or below the snapshot seq', async () => {
    served = deskSnap(10, [item(1, 'done')]);
    const { result } = await renderLive();
    send(itemEvent(9, item(1, 'grading')), itemEvent(10, item(1, 'queued')));
    await flush();
    expect(stateOf(result.current.snapshot, 1)).toBe('done');
    expect(fetches()).toBe(1);
  });

  it('refetches the snapshot on a gap', async () => {
    const { result } = await renderLive();
    expect(fetches()).toBe(1);
    served = deskSnap(13, [item(1, 'done')]);
    send(itemEvent(14, item(2, 'queued'))); // 11..13 missing
    await flush();
    expect(fetches()).toBe(2);
    expect(result.current.seq).toBe(14);
    expect(stateOf(result.current.snapshot, 1)).toBe('done');
    expect(stateOf(result.current.snapshot, 2)).toBe('queued');
  });

  it('refetches the snapshot on "changed"', async () => {
    await renderLive();
    send({ seq: 11, type: 'changed', what: 'submissions' });
    await flush();
    expect(fetches()).toBe(2);
  });

  it('shows Live while heartbeats are younger than 4 s, then Reconnecting', async () => {
    const { result } = await renderLive();
    expect(result.current.live).toBe(false);
    send(heartbeat(11));
    expect(result.current.live).toBe(true);
    await flush(3000);
    expect(result.current.live).toBe(true);
    await flush(1000);
    expect(result.current.live).toBe(false);
  });

  it('does not poll while heartbeats keep coming, even with answers grading', async () => {
    served = deskSnap(10, [item(1, 'grading')]);
    const { result } = await renderLive();
    await heartbeatsFor(30_000, 11);
    expect(result.current.live).toBe(true);
    expect(result.current.polling).toBe(false);
    expect(fetches()).toBe(1);
  });

  it('polls every 5 s once heartbeats stop while answers are grading', async () => {
    served = deskSnap(10, [item(1, 'grading')]);
    const { result } = await renderLive();
    const seq = await heartbeatsFor(4000, 11);
    expect(fetches()).toBe(1);
    // Heartbeats stop. Stale after 4 s; then a fetch every 5 s.
    await flush(4000);
    expect(result.current.live).toBe(false);
    expect(result.current.polling).toBe(true);
    const before = fetches();
    await flush(15_000);
    expect(fetches() - before).toBe(3);

    // The core comes back: polling stops.
    send(heartbeat(seq));
    await flush(0);
    const back = fetches();
    await flush(1000);
    send(heartbeat(seq + 1));
    await flush(1000);
    send(heartbeat(seq + 2));
    await flush(1000);
    expect(result.current.polling).toBe(false);
    expect(fetches()).toBeLessThanOrEqual(back + 1);
  });

  it('does not poll when nothing is being graded, even without heartbeats', async () => {
    served = deskSnap(10, [item(1, 'done'), item(2, 'failed'), item(3, 'cancelled')]);
    const { result } = await renderLive();
    await flush(30_000);
    expect(result.current.live).toBe(false);
    expect(result.current.polling).toBe(false);
    expect(fetches()).toBe(1);
  });

  it('stops polling when the polled snapshot shows grading finished', async () => {
    served = deskSnap(10, [item(1, 'grading')]);
    const { result } = await renderLive();
    await flush(1000);
    expect(result.current.polling).toBe(true);
    served = deskSnap(10, [item(1, 'done')]);
    await flush(5000);
    const after = fetches();
    expect(stateOf(result.current.snapshot, 1)).toBe('done');
    await flush(20_000);
    expect(fetches()).toBe(after);
  });

  it('reports each answer that finished, once', async () => {
    const finished: ItemView[] = [];
    await renderLive({ onItemFinished: (i) => finished.push(i) });
    send(itemEvent(11, item(1, 'grading')), itemEvent(12, item(1, 'done')), itemEvent(13, item(1, 'done')));
    send(itemEvent(14, item(2, 'failed')));
    await flush();
    expect(finished.map((i) => [i.item_id, i.state])).toEqual([
      [1, 'done'],
      [2, 'failed'],
    ]);
  });

  it('stops listening on unmount', async () => {
    const { unmount } = await renderLive();
    unmount();
    expect(unlisten).toHaveBeenCalled();
  });

  it('shows the core error message when there is no backend', async () => {
    vi.mocked(api.onCoreEvent).mockRejectedValue(
      new api.CommandError('no_backend', 'The GradeDesk core is not running.'),
    );
    vi.mocked(api.deskSnapshot).mockRejectedValue(
      new api.CommandError('no_backend', 'The GradeDesk core is not running.'),
    );
    const { result } = await renderLive();
    await flush();
    expect(result.current.error).toBe('The GradeDesk core is not running.');
    expect(result.current.snapshot).toBeNull();
  });
});
