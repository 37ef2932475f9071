import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useId, useState, type FormEvent } from 'react';
import { toast } from 'sonner';
import { errorMessage, getSettings, saveSettings, setApiKey, testApiKey } from '../api';
import type { KeySource, SettingsView } from '../api/types';
import { checkDraft, hostToConfirm, toDraft, type SettingsDraft } from '../lib/settingsForm';

export const SETTINGS_QUERY_KEY = ['settings'] as const;

const SOURCE_TEXT: Record<KeySource, string> = {
  environment: 'from the GEMINI_API_KEY environment variable',
  keyring: 'kept in the system keyring',
  file: 'kept in a private file in the data folder',
  none: 'no key is set',
};

/** API key, model, limits and prices. */
export function SettingsPage() {
  const query = useQuery({ queryKey: SETTINGS_QUERY_KEY, queryFn: getSettings });
  return (
    <div className="page settings-page" data-testid="settings-page">
      <h1 className="page-title">Settings</h1>
      {query.isError ? (
        <p className="banner banner-error" role="alert">
          {errorMessage(query.error)}
        </p>
      ) : query.data === undefined ? (
        <p className="empty">Loading settings…</p>
      ) : (
        <>
          <ApiKeyCard view={query.data} />
          <SettingsForm key={JSON.stringify(query.data.settings) + JSON.stringify(query.data.prices)} view={query.data} />
        </>
      )}
    </div>
  );
}

function ApiKeyCard({ view }: { view: SettingsView }) {
  const id = useId();
  const client = useQueryClient();
  const [key, setKey] = useState('');
  const [busy, setBusy] = useState<'save' | 'test' | null>(null);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);

  const save = async (e: FormEvent) => {
    e.preventDefault();
    if (key.trim() === '') {
      setResult({ ok: false, text: 'Paste your Gemini API key first.' });
      return;
    }
    setBusy('save');
    try {
      const next = await setApiKey(key.trim());
      client.setQueryData(SETTINGS_QUERY_KEY, next);
      setKey('');
      setResult({ ok: true, text: 'Key saved. Grading that was waiting for a key starts again.' });
    } catch (err) {
      setResult({ ok: false, text: errorMessage(err) });
    } finally {
      setBusy(null);
    }
  };

  const test = async () => {
    setBusy('test');
    try {
      const said = await testApiKey();
      setResult({ ok: true, text: `It works: ${said}.` });
    } catch (err) {
      setResult({ ok: false, text: errorMessage(err) });
    } finally {
      setBusy(null);
    }
  };

  return (
    <section className="card" aria-labelledby={`${id}-t`}>
      <div className="card-head">
        <h2 id={`${id}-t`} className="card-title">
          Gemini API key
        </h2>
      </div>
      <p data-testid="api-key-current">
        {view.api_key !== null ? (
          <>
            Current key <code className="masked-key">{view.api_key}</code>, {SOURCE_TEXT[view.api_key_source]}.
          </>
        ) : (
          'No key is set: answers wait until you add one.'
        )}
      </p>
      <form className="key-form" onSubmit={(e) => void save(e)}>
        <div className="field">
          <label htmlFor={`${id}-key`}>New key</label>
          <input
            id={`${id}-key`}
            data-testid="api-key-input"
            type="password"
            autoComplete="off"
            spellCheck={false}
            value={key}
            placeholder="Paste the key from Google AI Studio"
            onChange={(e) => setKey(e.target.value)}
          />
        </div>
        <div className="button-row">
          <button type="submit" className="btn btn-primary" data-testid="api-key-save" disabled={busy !== null}>
            Save key
          </button>
          <button
            type="button"
            className="btn"
            data-testid="api-key-test"
            disabled={busy !== null || view.api_key === null}
            onClick={() => void test()}
          >
            {busy === 'test' ? 'Testing…' : 'Test key'}
          </button>
        </div>
      </form>
      {result !== null && (
        <p
          className={result.ok ? 'form-ok' : 'form-error'}
          role={result.ok ? 'status' : 'alert'}
          data-testid="api-key-result"
        >
          {result.text}
        </p>
      )}
    </section>
  );
}

function SettingsForm({ view }: { view: SettingsView }) {
  const id = useId();
  const client = useQueryClient();
  const [draft, setDraft] = useState<SettingsDraft>(() => toDraft(view.settings, view.prices));
  const [errors, setErrors] = useState<string[]>([]);
  const [saving, setSaving] = useState(false);
  const set = (patch: Partial<SettingsDraft>) => setDraft((d) => ({ ...d, ...patch }));
  const confirmHost = hostToConfirm(draft.base_url);
  const setPrice = (k: number, patch: Partial<SettingsDraft['prices'][number]>) =>
    setDraft((d) => ({ ...d, prices: d.prices.map((p, i) => (i === k ? { ...p, ...patch } : p)) }));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const checked = checkDraft(view.settings, draft);
    if (!checked.ok) {
      setErrors(checked.errors);
      return;
    }
    setErrors([]);
    setSaving(true);
    try {
      const next = await saveSettings(checked.settings, checked.prices);
      client.setQueryData(SETTINGS_QUERY_KEY, next);
      toast.success('Settings saved. Grading uses them from now on.', { id: 'settings' });
    } catch (err) {
      setErrors([errorMessage(err)]);
    } finally {
      setSaving(false);
    }
  };

  return (
    <form className="card settings-form" aria-labelledby={`${id}-t`} onSubmit={(e) => void submit(e)} noValidate>
      <div className="card-head">
        <h2 id={`${id}-t`} className="card-title">
          Grading
        </h2>
      </div>
      <div className="settings-grid">
        <div className="field">
          <label htmlFor={`${id}-model`}>Model</label>
          <input id={`${id}-model`} data-testid="settings-model" value={draft.model} onChange={(e) => set({ model: e.target.value })} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-url`}>Base URL</label>
          <input id={`${id}-url`} data-testid="settings-base-url" value={draft.base_url} onChange={(e) => set({ base_url: e.target.value })} />
          {confirmHost !== null && (
            <label className="confirm-host" data-testid="settings-confirm-host">
              <input
                type="checkbox"
                data-testid="settings-confirm-host-box"
                checked={draft.confirmed_host === confirmHost}
                onChange={(e) => set({ confirmed_host: e.target.checked ? confirmHost : null })}
              />
              <span>
                Your API key will be sent to <strong>{confirmHost}</strong>, with the students’ answers. Tick to confirm
                that this host should receive them.
              </span>
            </label>
          )}
        </div>
        <div className="field">
          <label htmlFor={`${id}-conc`}>Answers graded at once</label>
          <input
            id={`${id}-conc`}
            data-testid="settings-concurrency"
            inputMode="numeric"
            value={draft.concurrency}
            onChange={(e) => set({ concurrency: e.target.value })}
          />
        </div>
        <div className="field">
          <label htmlFor={`${id}-rpm`}>Requests per minute (0 = no limit)</label>
          <input
            id={`${id}-rpm`}
            data-testid="settings-rpm"
            inputMode="numeric"
            value={draft.requests_per_minute}
            onChange={(e) => set({ requests_per_minute: e.target.value })}
          />
        </div>
      </div>

      <h3 className="card-subtitle">Prices (US$ per million tokens)</h3>
      <table className="table prices-table" data-testid="prices-table">
        <thead>
          <tr>
            <th scope="col">Model (or start of its name)</th>
            <th scope="col">Input</th>
            <th scope="col">Output</th>
            <th scope="col">
              <span className="sr-only">Remove</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {draft.prices.map((p, k) => (
            <tr key={k}>
              <td>
                <input
                  aria-label={`Model of price row ${k + 1}`}
                  value={p.model_prefix}
                  onChange={(e) => setPrice(k, { model_prefix: e.target.value })}
                />
              </td>
              <td>
                <input
                  aria-label={`Input price of ${p.model_prefix || `row ${k + 1}`}`}
                  inputMode="decimal"
                  value={p.input_per_mtok}
                  onChange={(e) => setPrice(k, { input_per_mtok: e.target.value })}
                />
              </td>
              <td>
                <input
                  aria-label={`Output price of ${p.model_prefix || `row ${k + 1}`}`}
                  inputMode="decimal"
                  value={p.output_per_mtok}
                  onChange={(e) => setPrice(k, { output_per_mtok: e.target.value })}
                />
              </td>
              <td>
                {/* Rows already stored stay (the core keeps them); new ones can be dropped. */}
                {k >= view.prices.length && (
                  <button
                    type="button"
                    className="btn btn-small btn-ghost"
                    aria-label={`Remove price row ${k + 1}`}
                    onClick={() => setDraft((d) => ({ ...d, prices: d.prices.filter((_, i) => i !== k) }))}
                  >
                    Remove
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <button
        type="button"
        className="btn btn-small btn-ghost"
        onClick={() => setDraft((d) => ({ ...d, prices: [...d.prices, { model_prefix: '', input_per_mtok: '', output_per_mtok: '' }] }))}
      >
        + Add a price
      </button>

      {errors.length > 0 && (
        <ul className="form-errors" role="alert" data-testid="settings-errors">
          {errors.map((e) => (
            <li key={e}>{e}</li>
          ))}
        </ul>
      )}
      <div className="button-row form-actions">
        <button type="submit" className="btn btn-primary" data-testid="settings-save" disabled={saving}>
          {saving ? 'Saving…' : 'Save settings'}
        </button>
      </div>
    </form>
  );
}
