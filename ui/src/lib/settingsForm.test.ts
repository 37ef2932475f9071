import { describe, expect, it } from 'vitest';
import type { Settings } from '../api/types';
import { settings } from '../test/fixtures';
import { checkDraft, hostToConfirm, toDraft } from './settingsForm';

const base: Settings = settings();

describe('settings form', () => {
  it('round-trips and keeps the fields the form does not show', () => {
    const d = toDraft(base, [{ model_prefix: 'gemini-2.5-flash', input_per_mtok: 0.3, output_per_mtok: 2.5 }]);
    const r = checkDraft(base, { ...d, concurrency: '8', requests_per_minute: '60' });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.settings).toEqual({ ...base, concurrency: 8, requests_per_minute: 60 });
    expect(r.prices).toEqual([{ model_prefix: 'gemini-2.5-flash', input_per_mtok: 0.3, output_per_mtok: 2.5 }]);
  });

  it('says what is wrong in sentences', () => {
    const d = toDraft(base, []);
    const r = checkDraft(base, {
      ...d,
      model: ' ',
      base_url: 'generativelanguage',
      concurrency: '0',
      requests_per_minute: 'fast',
      prices: [
        { model_prefix: 'x', input_per_mtok: '-1', output_per_mtok: '2' },
        { model_prefix: '', input_per_mtok: '', output_per_mtok: '' },
      ],
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toEqual([
      'Enter the model to grade with, for example gemini-2.5-flash.',
      'The base URL must start with https://.',
      '“Answers graded at once” must be a whole number from 1 to 64.',
      '“Requests per minute” must be a whole number (0 means no limit).',
      'Price row 1: prices must be numbers of dollars, 0 or more.',
    ]);
  });

  it('needs a confirmation naming the host for a base URL off Google and this computer', () => {
    const d = toDraft(base, []);
    const proxy = { ...d, base_url: 'https://Proxy.School.example/gemini' };
    const refused = checkDraft(base, proxy);
    expect(refused.ok).toBe(false);
    if (refused.ok) return;
    expect(refused.errors).toEqual([
      'Your API key will be sent to proxy.school.example: tick the box below the base URL to confirm that host.',
    ]);
    const ok = checkDraft(base, { ...proxy, confirmed_host: 'proxy.school.example' });
    expect(ok.ok && ok.settings.base_url_confirmed_host).toBe('proxy.school.example');
    // A confirmation for another host does not count.
    expect(checkDraft(base, { ...proxy, base_url: 'https://other.example', confirmed_host: 'proxy.school.example' }).ok).toBe(false);
    // Google and this computer need none, and carry none.
    for (const url of ['https://generativelanguage.googleapis.com', 'http://127.0.0.1:8765', 'http://localhost:8765', 'http://[::1]:1']) {
      const r = checkDraft(base, { ...d, base_url: url, confirmed_host: 'proxy.school.example' });
      expect(r.ok && r.settings.base_url_confirmed_host).toBe(null);
    }
    expect(hostToConfirm('https://generativelanguage.googleapis.com.evil.example')).toBe('generativelanguage.googleapis.com.evil.example');
  });

  it('refuses plain http except to this computer', () => {
    const d = toDraft(base, []);
    const r = checkDraft(base, { ...d, base_url: 'http://192.168.1.20:8080', confirmed_host: '192.168.1.20' });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors[0]).toContain('use https://192.168.1.20:8080');
  });
});
