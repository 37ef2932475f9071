import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { item } from '../test/fixtures';
import { batchToasts, createFinishedAnnouncer } from './notify';

vi.mock('sonner', () => ({ toast: Object.assign(vi.fn(), { success: vi.fn(), error: vi.fn() }) }));

describe('batchToasts', () => {
  it('names each answer when only a few finish', () => {
    const t = batchToasts([item(1, 'done'), item(2, 'failed')]);
    expect(t.map((x) => x.message)).toEqual([
      'Q1 graded: 1.5 / 2',
      'Q1 failed: The model could not read the handwriting.',
    ]);
  });

  it('sums up a burst in one toast', () => {
    const done = Array.from({ length: 12 }, (_, k) => item(k + 1, 'done'));
    const t = batchToasts(done);
    expect(t).toHaveLength(1);
    expect(t[0]!.message).toBe('12 answers graded');
  });

  it('counts an answer once even if it was announced twice', () => {
    const t = batchToasts([item(1, 'done'), item(1, 'done'), item(1, 'done')]);
    expect(t.map((x) => x.message)).toEqual(['Q1 graded: 1.5 / 2']);
  });
});

describe('createFinishedAnnouncer', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('coalesces answers finishing within the window', () => {
    const toasts = { success: vi.fn(), error: vi.fn() };
    const a = createFinishedAnnouncer(toasts, 500);
    for (let k = 1; k <= 5; k += 1) a.announce(item(k, 'done'));
    a.announce(item(9, 'failed'));
    expect(toasts.success).not.toHaveBeenCalled();
    vi.advanceTimersByTime(500);
    expect(toasts.success).toHaveBeenCalledTimes(1);
    expect(toasts.success.mock.calls[0]![0]).toBe('5 answers graded');
    expect(toasts.error).toHaveBeenCalledTimes(1);
    // A later answer starts a new batch.
    a.announce(item(20, 'done'));
    vi.advanceTimersByTime(500);
    expect(toasts.success).toHaveBeenCalledTimes(2);
    expect(toasts.success.mock.calls[1]![0]).toBe('Q1 graded: 1.5 / 2');
  });

  it('ignores states that are not finished and drops the batch on dispose', () => {
    const toasts = { success: vi.fn(), error: vi.fn() };
    const a = createFinishedAnnouncer(toasts, 500);
    a.announce(item(1, 'queued'));
    a.announce(item(2, 'done'));
    a.dispose();
    vi.advanceTimersByTime(1000);
    expect(toasts.success).not.toHaveBeenCalled();
  });
});
