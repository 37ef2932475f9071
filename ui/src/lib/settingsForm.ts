// The settings form's text fields and their checks, as sentences a teacher can act on.
import type { Settings, Price } from '../api/types';

export type SettingsDraft = {
  model: string;
  base_url: string;
  concurrency: string;
  requests_per_minute: string;
  prices: { model_prefix: string; input_per_mtok: string; output_per_mtok: string }[];
};

export function toDraft(settings: Settings, prices: Price[]): SettingsDraft {
  return {
    model: settings.model,
    base_url: settings.base_url,
    concurrency: String(settings.concurrency),
    requests_per_minute: String(settings.requests_per_minute),
    prices: prices.map((p) => ({
      model_prefix: p.model_prefix,
      input_per_mtok: String(p.input_per_mtok),
      output_per_mtok: String(p.output_per_mtok),
    })),
  };
}

function wholeNumber(text: string): number | null {
  const t = text.trim();
  return /^\d+$/.test(t) ? Number(t) : null;
}

function amount(text: string): number | null {
  const t = text.trim().replace(',', '.');
  if (t === '' || !/^\d*\.?\d*$/.test(t)) return null;
  const n = Number(t);
  return Number.isFinite(n) ? n : null;
}

export type Checked =
  | { ok: true; settings: Settings; prices: Price[] }
  | { ok: false; errors: string[] };

/** Turns the draft into what `save_settings` takes, keeping every other field as it was. */
export function checkDraft(base: Settings, d: SettingsDraft): Checked {
  const errors: string[] = [];
  const model = d.model.trim();
  if (model === '') errors.push('Enter the model to grade with, for example gemini-2.5-flash.');
  const baseUrl = d.base_url.trim();
  if (!/^https?:\/\/\S+$/.test(baseUrl)) errors.push('The base URL must start with http:// or https://.');
  const concurrency = wholeNumber(d.concurrency);
  if (concurrency === null || concurrency < 1 || concurrency > 64) {
    errors.push('“Answers graded at once” must be a whole number from 1 to 64.');
  }
  const rpm = wholeNumber(d.requests_per_minute);
  if (rpm === null) errors.push('“Requests per minute” must be a whole number (0 means no limit).');
  const prices: Price[] = [];
  const seen = new Set<string>();
  d.prices.forEach((p, k) => {
    const prefix = p.model_prefix.trim();
    const input = amount(p.input_per_mtok);
    const output = amount(p.output_per_mtok);
    if (prefix === '' && p.input_per_mtok.trim() === '' && p.output_per_mtok.trim() === '') return;
    const row = `Price row ${k + 1}`;
    if (prefix === '') errors.push(`${row}: enter the model name (or the start of it).`);
    else if (seen.has(prefix)) errors.push(`${row}: ${prefix} is listed twice.`);
    if (input === null || output === null) errors.push(`${row}: prices must be numbers of dollars, 0 or more.`);
    seen.add(prefix);
    if (prefix !== '' && input !== null && output !== null) {
      prices.push({ model_prefix: prefix, input_per_mtok: input, output_per_mtok: output });
    }
  });
  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    settings: { ...base, model, base_url: baseUrl, concurrency: concurrency!, requests_per_minute: rpm! },
    prices,
  };
}
