import { useQuery } from '@tanstack/react-query';
import { useEffect, useState, useSyncExternalStore } from 'react';
import { deskSnapshot, errorMessage, onCoreEvent } from '../api';
import type { Event, ItemView, LiveSnapshot } from '../api/types';
import { isLive, POLL_EVERY_MS, shouldPoll, STALE_AFTER_MS } from './reducer';
import { LiveStore } from './store';

export const SNAPSHOT_QUERY_KEY = ['snapshot'] as const;

/** How the hook reaches the core; the default is src/api. Pass a stable object. */
export type LiveTransport = {
  fetchSnapshot: () => Promise<LiveSnapshot>;
  subscribe: (handler: (event: Event) => void) => Promise<() => void>;
};

export const apiTransport: LiveTransport = {
  fetchSnapshot: deskSnapshot,
  subscribe: onCoreEvent,
};

export type LiveOptions = {
  transport?: LiveTransport;
  /** Clock in ms; pass a stable function. */
  now?: () => number;
  /** How often the liveness badge re-checks the clock. */
  tickMs?: number;
  pollMs?: number;
  staleMs?: number;
  /** Called once per answer that became done or failed. */
  onItemFinished?: (item: ItemView) => void;
};

export type LiveConnection = 'connecting' | 'subscribed' | 'failed';

export type Live = {
  snapshot: LiveSnapshot | null;
  /** A heartbeat arrived within the last two periods. */
  live: boolean;
  /** The snapshot is being polled (not live and answers still in flight). */
  polling: boolean;
  seq: number;
  /** Teacher-readable reason the snapshot could not be loaded, if any. */
  error: string | null;
  loading: boolean;
  refresh: () => void;
};

const defaultNow = (): number => Date.now();

export function useLive(options: LiveOptions = {}): Live {
  const {
    transport = apiTransport,
    now = defaultNow,
    tickMs = 1000,
    pollMs = POLL_EVERY_MS,
    staleMs = STALE_AFTER_MS,
    onItemFinished,
  } = options;

  const [store] = useState(() => new LiveStore());
  const state = useSyncExternalStore(store.subscribe, store.getState, store.getState);
  const [connection, setConnection] = useState<LiveConnection>('connecting');
  const [subscribeError, setSubscribeError] = useState<string | null>(null);
  const [clock, setClock] = useState(now);

  useEffect(() => {
    store.setFinishedHandler(onItemFinished ?? null);
    return () => store.setFinishedHandler(null);
  }, [store, onItemFinished]);

  // Listen first, then fetch the snapshot: nothing emitted in between is lost.
  useEffect(() => {
    let disposed = false;
    let unlisten: (() => void) | null = null;
    transport
      .subscribe((event) => store.dispatch({ type: 'event', event, now: now() }))
      .then(
        (off) => {
          if (disposed) off();
          else {
            unlisten = off;
            setConnection('subscribed');
          }
        },
        (err: unknown) => {
          if (disposed) return;
          setSubscribeError(errorMessage(err));
          setConnection('failed');
        },
      );
    return () => {
      disposed = true;
      unlisten?.();
    };
  }, [store, transport, now]);

  // The badge goes stale without any event, so re-check the clock periodically.
  useEffect(() => {
    const id = setInterval(() => {
      const t = now();
      setClock(t);
      store.dispatch({ type: 'tick', now: t });
    }, tickMs);
    return () => clearInterval(id);
  }, [store, now, tickMs]);

  const live = isLive(state.lastHeartbeatAt, Math.max(clock, state.lastHeartbeatAt ?? clock), staleMs);
  const polling = shouldPoll(state, Math.max(clock, state.lastHeartbeatAt ?? clock), staleMs);

  const query = useQuery({
    queryKey: SNAPSHOT_QUERY_KEY,
    queryFn: transport.fetchSnapshot,
    enabled: connection !== 'connecting',
    refetchInterval: polling ? pollMs : false,
    refetchIntervalInBackground: true,
    refetchOnWindowFocus: false,
    refetchOnReconnect: false,
    // Every fetched snapshot must reach the store, even an identical one.
    structuralSharing: false,
    staleTime: Infinity,
  });

  const { data, dataUpdatedAt, refetch } = query;
  useEffect(() => {
    if (data) store.dispatch({ type: 'snapshot', snapshot: data, now: now() });
  }, [store, data, dataUpdatedAt, now]);

  const { refetchToken } = state;
  useEffect(() => {
    if (refetchToken > 0) void refetch();
  }, [refetchToken, refetch]);

  // Once a snapshot is on screen, a failed refresh is retried silently (poll, events).
  const error = state.snapshot
    ? null
    : query.error
      ? errorMessage(query.error)
      : connection === 'failed' && query.isFetched
        ? subscribeError
        : null;

  return {
    snapshot: state.snapshot,
    live,
    polling,
    seq: state.seq,
    error,
    loading: state.snapshot === null && error === null,
    refresh: () => void refetch(),
  };
}
