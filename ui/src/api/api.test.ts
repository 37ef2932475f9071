import { invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { settings as settingsFixture } from '../test/fixtures';
import {
  CommandError,
  createExam,
  createItem,
  deleteItem,
  recropItem,
  restoreItem,
  errorMessage,
  getSubmission,
  importFile,
  onCoreEvent,
  pageImageUrl,
  cropImageUrl,
  pageThumbUrl,
  deskSnapshot,
  overrideScore,
  pauseGrading,
  renameStudent,
  resumeGrading,
  retryItem,
  reviewItems,
  saveSettings,
  setApiKey,
  snapshot,
} from '.';

vi.mock('@tauri-apps/api/core', () => ({
  invoke: vi.fn(),
  convertFileSrc: vi.fn((path: string, protocol: string) => `http://${protocol}.localhost/${encodeURIComponent(path)}`),
}));
vi.mock('@tauri-apps/api/event', () => ({ listen: vi.fn() }));

beforeEach(() => {
  window.__TAURI_INTERNALS__ = {};
  vi.mocked(invoke).mockResolvedValue({});
});

afterEach(() => {
  delete window.__TAURI_INTERNALS__;
});

describe('api', () => {
  it('sends the file bytes as the raw body with exam id and encoded name headers', async () => {
    vi.mocked(invoke).mockResolvedValue({ submission_id: 3, file: 'été 1.pdf', pages: 2 });
    // jsdom's File has no arrayBuffer(); Node's does.
    const { File: NodeFile } = await import('node:buffer');
    const file = new NodeFile([new Uint8Array([1, 2, 3])], 'été 1.pdf') as unknown as File;
    const res = await importFile(42, file);
    expect(res).toEqual({ submission_id: 3, file: 'été 1.pdf', pages: 2 });
    const [cmd, body, options] = vi.mocked(invoke).mock.calls[0]!;
    expect(cmd).toBe('import_file');
    expect(body).toBeInstanceOf(Uint8Array);
    expect(Array.from(body as Uint8Array)).toEqual([1, 2, 3]);
    expect(options).toEqual({
      headers: { 'x-exam-id': '42', 'x-file-name': '%C3%A9t%C3%A9%201.pdf' },
    });
  });

  it('uses the contract names and camelCase arguments', async () => {
    await snapshot();
    await getSubmission(7);
    await createExam('Mid-term', []);
    const bbox = { x: 0.1, y: 0.2, w: 0.3, h: 0.4 };
    await createItem({ submissionId: 7, pageNumber: 2, questionLabel: 'Q1', bbox });
    await deleteItem(9);
    await recropItem(9, 'Q2', bbox);
    await restoreItem(9);
    expect(vi.mocked(invoke).mock.calls.map((c) => [c[0], c[1]])).toEqual([
      ['snapshot', undefined],
      ['get_submission', { submissionId: 7 }],
      ['create_exam', { name: 'Mid-term', questions: [] }],
      ['create_item', { submissionId: 7, pageNumber: 2, questionLabel: 'Q1', bbox }],
      ['delete_item', { itemId: 9 }],
      ['recrop_item', { itemId: 9, questionLabel: 'Q2', bbox }],
      ['restore_item', { itemId: 9 }],
    ]);
  });

  it('names the queue, review and settings commands as the contract does', async () => {
    await deskSnapshot();
    await pauseGrading();
    await pauseGrading(3);
    await resumeGrading();
    await resumeGrading(3);
    await reviewItems(1, 'Q2');
    await overrideScore(9, 1.5);
    await overrideScore(9, 2, 'units');
    await renameStudent(7, 'Ada');
    await setApiKey('k');
    const settings = settingsFixture({ model: 'm', base_url: 'http://x', concurrency: 1 });
    await saveSettings(settings, []);
    expect(vi.mocked(invoke).mock.calls.map((c) => [c[0], c[1]])).toEqual([
      ['desk_snapshot', undefined],
      ['pause_grading', {}],
      ['pause_grading', { examId: 3 }],
      ['resume_grading', {}],
      ['resume_grading', { examId: 3 }],
      ['review_items', { examId: 1, questionLabel: 'Q2' }],
      ['override_score', { itemId: 9, score: 1.5 }],
      ['override_score', { itemId: 9, score: 2, note: 'units' }],
      ['rename_student', { submissionId: 7, student: 'Ada' }],
      ['set_api_key', { key: 'k' }],
      ['save_settings', { settings, prices: [] }],
    ]);
  });

  it('retries a failed answer through its dead job', async () => {
    vi.mocked(invoke).mockImplementation((cmd: string) =>
      Promise.resolve(
        cmd === 'dead_jobs'
          ? [
              { job_id: 40, kind: 'GRADE_ITEM', item_id: 4, submission_id: 1, attempts: 3, error: 'x', finished_at: 1 },
              { job_id: 50, kind: 'GRADE_ITEM', item_id: 5, submission_id: 1, attempts: 3, error: 'y', finished_at: 1 },
            ]
          : 1,
      ),
    );
    expect(await retryItem(5)).toBe(1);
    expect(vi.mocked(invoke).mock.calls.map((c) => [c[0], c[1]])).toEqual([
      ['dead_jobs', undefined],
      ['retry_failed', { jobId: 50 }],
    ]);
    const err = await retryItem(6).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'not_found' });
    expect(errorMessage(err)).toContain('no failed grading to retry');
  });

  it('rejects with {code, message} from the core', async () => {
    vi.mocked(invoke).mockRejectedValue({ code: 'bad_file', message: 'This file is not a scan.' });
    const err = await getSubmission(1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandError);
    expect(err).toMatchObject({ code: 'bad_file', message: 'This file is not a scan.' });
    expect(errorMessage(err)).toBe('This file is not a scan.');
  });

  it('keeps the core\'s codes and calls any other code a plain error', async () => {
    vi.mocked(invoke).mockRejectedValue({ code: 'storage', message: 'The database could not be used.' });
    expect(await getSubmission(1).catch((e: unknown) => e)).toMatchObject({ code: 'storage' });
    vi.mocked(invoke).mockRejectedValue({ code: 'made_up', message: 'Odd.' });
    expect(await getSubmission(1).catch((e: unknown) => e)).toMatchObject({ code: 'error', message: 'Odd.' });
  });

  it('never shows raw JSON for odd errors', () => {
    expect(errorMessage('command not allowed')).toBe('command not allowed');
    expect(errorMessage({ code: 'x' })).toBe('Something went wrong. Please try again.');
    expect(errorMessage(null)).toBe('Something went wrong. Please try again.');
  });

  it('builds image URLs through the gdimg protocol by id, with the page images\' revision', () => {
    expect(pageImageUrl(5, 'ab12')).toBe('http://gdimg.localhost/page%2F5%2Fab12');
    expect(cropImageUrl(9)).toBe('http://gdimg.localhost/crop%2F9');
    expect(pageThumbUrl(5, 'ab12')).toBe('http://gdimg.localhost/thumb%2F5%2Fab12');
    expect(pageThumbUrl(5, null)).toBe('http://gdimg.localhost/thumb%2F5');
  });

  it('listens to gradedesk:event and hands over the payload', async () => {
    let handler: ((e: { payload: unknown }) => void) | undefined;
    const off = vi.fn();
    vi.mocked(listen).mockImplementation((_name, h) => {
      handler = h as typeof handler;
      return Promise.resolve(off);
    });
    const seen: unknown[] = [];
    const unlisten = await onCoreEvent((e) => seen.push(e));
    expect(vi.mocked(listen).mock.calls[0]![0]).toBe('gradedesk:event');
    handler?.({ payload: { seq: 1, type: 'heartbeat', at_ms: 5 } });
    expect(seen).toEqual([{ seq: 1, type: 'heartbeat', at_ms: 5 }]);
    unlisten();
    expect(off).toHaveBeenCalled();
  });

  it('fails with a clear message outside the desktop app', async () => {
    delete window.__TAURI_INTERNALS__;
    await expect(snapshot()).rejects.toMatchObject({ code: 'no_backend' });
    expect(invoke).not.toHaveBeenCalled();
    expect(pageImageUrl(1, 'x')).toBe('');
  });
});
