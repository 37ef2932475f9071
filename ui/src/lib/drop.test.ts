import { describe, expect, it } from 'vitest';
import { batchMessage, EMPTY_BATCH, trackBatch } from './batch';
import { dropRefusal, dropToasts, nextDragView } from './drop';
import { item } from '../test/fixtures';

describe('drag view', () => {
  it('shows on enter, stays on over and hides on drop or leave', () => {
    let v = nextDragView({ over: false }, { type: 'enter', paths: ['/a', '/b'] });
    expect(v).toEqual({ over: true, count: 2 });
    v = nextDragView(v, { type: 'over' });
    expect(v).toEqual({ over: true, count: 2 });
    expect(nextDragView(v, { type: 'drop', paths: ['/a'] })).toEqual({ over: false });
    expect(nextDragView(v, { type: 'leave' })).toEqual({ over: false });
  });

  it('refuses a drop without an exam or during an import, in words', () => {
    expect(dropRefusal(null, false)).toContain('Create an exam first');
    expect(dropRefusal(1, true)).toContain('Wait for the current import');
    expect(dropRefusal(1, false)).toBeNull();
  });
});

describe('drop report toasts', () => {
  it('says what was imported, what failed and what was skipped, file by file', () => {
    const toasts = dropToasts({
      imported: [
        { submission_id: 1, file: 'ada.pdf', pages: 2 },
        { submission_id: 2, file: 'bob.jpg', pages: 1 },
      ],
      failed: [{ file: 'broken.jpg', reason: 'the file is damaged' }],
      skipped: Array.from({ length: 6 }, (_, k) => ({ file: `n${k}.txt`, reason: 'not a scan' })),
    });
    expect(toasts).toEqual([
      { kind: 'success', message: 'Imported 2 scans', description: '3 pages' },
      { kind: 'error', message: '1 file could not be imported', description: 'broken.jpg: the file is damaged' },
      {
        kind: 'info',
        message: '6 files skipped',
        description: 'n0.txt: not a scan\nn1.txt: not a scan\nn2.txt: not a scan\nn3.txt: not a scan\nand 2 more',
      },
    ]);
    expect(dropToasts({ imported: [], failed: [], skipped: [] })).toEqual([
      { kind: 'info', message: 'No scans were found in what you dropped.' },
    ]);
  });
});

describe('batch finished detection', () => {
  it('finishes once every answer of the batch is done, failed or cancelled', () => {
    let r = trackBatch(EMPTY_BATCH, [item(1, 'done')]);
    expect(r.finished).toBeNull(); // nothing was ever active: no batch
    r = trackBatch(r.state, [item(1, 'queued'), item(2, 'queued')]);
    expect(r.finished).toBeNull();
    r = trackBatch(r.state, [item(1, 'done'), item(2, 'grading')]);
    expect(r.finished).toBeNull();
    // An answer added while the batch runs joins it.
    r = trackBatch(r.state, [item(1, 'done'), item(2, 'retrying'), item(3, 'queued')]);
    expect([...r.state.members].sort()).toEqual([1, 2, 3]);
    r = trackBatch(r.state, [item(1, 'done'), item(2, 'failed'), item(3, 'cancelled'), item(4, 'done')]);
    expect(r.finished).toEqual({ done: 1, failed: 1, cancelled: 1 });
    expect(r.state.members.size).toBe(0);
    // Only once.
    expect(trackBatch(r.state, [item(1, 'done')]).finished).toBeNull();
  });

  it('keeps the same state object while nothing new joins (no re-renders)', () => {
    const a = trackBatch(EMPTY_BATCH, [item(1, 'queued')]).state;
    expect(trackBatch(a, [item(1, 'grading')]).state).toBe(a);
  });

  it('words the notification', () => {
    expect(batchMessage({ done: 12, failed: 0, cancelled: 0 })).toEqual({ title: 'Grading finished', body: '12 answers graded.' });
    expect(batchMessage({ done: 1, failed: 2, cancelled: 1 }).body).toBe(
      '1 answer graded, 2 failed (open the scans to retry), 1 cancelled.',
    );
  });
});
