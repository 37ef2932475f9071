import { describe, expect, it } from 'vitest';
import { exam, queueStatus } from '../test/fixtures';
import { blockers, examPaused, formatClock, formatEta, formatRate, itemStatusLabel, overallProgress, waitingHold } from './queue';

describe('queue helpers', () => {
  it('formats ETA and rate for people', () => {
    expect(formatEta(null)).toBe('–');
    expect(formatEta(30)).toBe('under a minute');
    expect(formatEta(150)).toBe('about 3 min');
    expect(formatEta(3600 + 7 * 60)).toBe('about 1 h 7 min');
    expect(formatRate(0)).toBe('–');
    expect(formatRate(0.25)).toBe('0.3 / min');
    expect(formatRate(12.4)).toBe('12 / min');
  });

  it('finds the overall line and exam pauses', () => {
    const q = queueStatus({ pauses: [{ scope: { scope: 'exam', exam_id: 1 }, reason: 'paused by the teacher', until_ms: null }] });
    expect(overallProgress(q)?.exam_id).toBeNull();
    expect(examPaused(q, 1)?.reason).toBe('paused by the teacher');
    expect(examPaused(q, 2)).toBeNull();
  });

  it('explains a blocked queue in sentences', () => {
    const now = new Date(2026, 10, 28, 13, 0).getTime();
    const at = new Date(2026, 10, 28, 14, 5).getTime();
    const q = queueStatus({
      halted: 'the API key was rejected',
      provider: { hold: 'unavailable', next_try_at_ms: at },
      pauses: [
        { scope: { scope: 'all' }, reason: 'daily quota', until_ms: at },
        { scope: { scope: 'exam', exam_id: 1 }, reason: '', until_ms: null },
      ],
    });
    const b = blockers(q, [exam], now);
    expect(b.map((x) => x.kind)).toEqual(['halted', 'provider', 'pause', 'pause']);
    expect(b[0]!.text).toBe('Grading has stopped: the API key was rejected');
    expect(b[1]!.text).toMatch(/^Gemini unavailable — next try at .*05/);
    expect(b[2]!.text).toMatch(/^All grading is paused until .*05.* \(daily quota\)\.$/);
    expect(b[3]!.text).toBe('Grading of “Physics mid-term” is paused.');
  });

  it('says when it waits for the network or a rate limit', () => {
    expect(blockers(queueStatus({ provider: { hold: 'offline', next_try_at_ms: null } }), [])[0]!.text).toBe(
      'Waiting for network.',
    );
    expect(blockers(queueStatus({ provider: { hold: 'cooling_down', next_try_at_ms: null } }), [])[0]!.text).toBe(
      'Rate limited by Gemini.',
    );
    expect(blockers(queueStatus(), [])).toEqual([]);
  });

  it('says what each waiting answer waits for: key, pause, network, Gemini', () => {
    const now = new Date(2026, 10, 28, 13, 0).getTime();
    const at = new Date(2026, 10, 28, 14, 5).getTime();
    expect(waitingHold(undefined, 1)).toBeNull();
    expect(waitingHold(queueStatus(), 1)).toBeNull();

    const offline = waitingHold(queueStatus({ provider: { hold: 'offline', next_try_at_ms: at } }), 1, now)!;
    expect(offline.label).toBe('Waiting for network');
    expect(offline.detail).toBe(`No connection to Gemini. Next try at ${formatClock(at, now)}.`);
    expect(waitingHold(queueStatus({ provider: { hold: 'unavailable', next_try_at_ms: null } }), 1, now)!.label).toBe('Waiting for Gemini');
    expect(waitingHold(queueStatus({ provider: { hold: 'cooling_down', next_try_at_ms: at } }), 1, now)!.label).toBe('Rate limited');

    // Only this exam's pause (or a pause of everything) holds its answers.
    const examPause = { scope: { scope: 'exam' as const, exam_id: 2 }, reason: '', until_ms: null };
    expect(waitingHold(queueStatus({ pauses: [examPause] }), 1, now)).toBeNull();
    expect(waitingHold(queueStatus({ pauses: [examPause] }), 2, now)!.label).toBe('Paused');

    // A halt needs the teacher: it wins over everything else.
    const halted = queueStatus({
      halted: 'the Gemini API key was rejected',
      provider: { hold: 'offline', next_try_at_ms: at },
      pauses: [examPause],
    });
    const key = waitingHold(halted, 2, now)!;
    expect(key.label).toBe('Waiting for API key');
    expect(key.detail).toMatch(/Settings/);
    expect(waitingHold(queueStatus({ halted: 'the model gemini-9 does not exist' }), 1, now)!.label).toBe('Waiting for settings');

    // Only waiting answers take the hold's words.
    expect(itemStatusLabel('queued', offline)).toBe('Waiting for network');
    expect(itemStatusLabel('retrying', offline)).toBe('Waiting for network');
    expect(itemStatusLabel('grading', offline)).toBe('Grading');
    expect(itemStatusLabel('done', offline)).toBe('Done');
    expect(itemStatusLabel('queued', null)).toBe('Queued');
  });
});
