// The settings form's text fields and their checks, as sentences a teacher can act on.
import type { Settings, Price } from '../api/types';

export type SettingsDraft = {
  model: string;
  base_url: string;
  /** The host the teacher ticked “send my API key to …” for (null: not ticked). Ticking
   * confirms one host: a base URL on another host shows the box unticked again. */
  confirmed_host: string | null;
  concurrency: string;
  requests_per_minute: string;
  prices: { model_prefix: string; input_per_mtok: string; output_per_mtok: string }[];
};

export function toDraft(settings: Settings, prices: Price[]): SettingsDraft {
  return {
    model: settings.model,
    base_url: settings.base_url,
    confirmed_host: settings.base_url_confirmed_host,
    concurrency: String(settings.concurrency),
    requests_per_minute: String(settings.requests_per_minute),
    prices: prices.map((p) => ({
      model_prefix: p.model_prefix,
      input_per_mtok: String(p.input_per_mtok),
      output_per_mtok: String(p.output_per_mtok),
    })),
  };
}

/** Google's Gemini endpoint: the one host the key goes to without a confirmation. */
export const GOOGLE_HOST = 'generativelanguage.googleapis.com';

function parseUrl(text: string): URL | null {
  try {
    return new URL(text.trim());
  } catch {
    return null;
  }
}

/** Whether a URL's host is this computer (the key never leaves the machine). */
function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * The host a base URL would send the API key to, when the teacher must confirm it: any host
 * but Google's endpoint and this computer (the same rule as the core's). Null when no
 * confirmation is needed or the URL does not parse.
 */
export function hostToConfirm(url: string): string | null {
  const parsed = parseUrl(url);
  if (parsed === null) return null;
  const host = parsed.hostname.toLowerCase();
  return host === GOOGLE_HOST || isLoopback(host) ? null : host;
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
  const parsed = /^https?:\/\/\S+$/.test(baseUrl) ? parseUrl(baseUrl) : null;
  const confirmHost = hostToConfirm(baseUrl);
  if (parsed === null) errors.push('The base URL must start with https://.');
  else if (parsed.protocol === 'http:' && !isLoopback(parsed.hostname.toLowerCase())) {
    errors.push(
      `Plain http:// is only allowed to this computer (127.0.0.1 or localhost): use https://${parsed.host}, or your API key and the students’ answers would cross the network unencrypted.`,
    );
  } else if (confirmHost !== null && d.confirmed_host !== confirmHost) {
    errors.push(`Your API key will be sent to ${confirmHost}: tick the box below the base URL to confirm that host.`);
  }
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
    settings: {
      ...base,
      model,
      base_url: baseUrl,
      base_url_confirmed_host: confirmHost,
      concurrency: concurrency!,
      requests_per_minute: rpm!,
    },
    prices,
  };
}
