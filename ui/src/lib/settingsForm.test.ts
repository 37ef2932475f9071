import { describe, expect, it } from 'vitest';
import type { Settings } from '../api/types';
import { settings } from '../test/fixtures';
import { checkDraft, toDraft } from './settingsForm';

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
      'The base URL must start with http:// or https://.',
      '“Answers graded at once” must be a whole number from 1 to 64.',
      '“Requests per minute” must be a whole number (0 means no limit).',
      'Price row 1: prices must be numbers of dollars, 0 or more.',
    ]);
  });
});
