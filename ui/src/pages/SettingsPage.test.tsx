import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as api from '../api';
import type { SettingsView } from '../api/types';
import { settings } from '../test/fixtures';
import { SettingsPage } from './SettingsPage';

vi.mock('../api', async (importOriginal) => {
  const actual = await importOriginal<typeof api>();
  return { ...actual, getSettings: vi.fn(), saveSettings: vi.fn(), setApiKey: vi.fn(), testApiKey: vi.fn() };
});
vi.mock('sonner', () => ({ toast: Object.assign(vi.fn(), { success: vi.fn(), error: vi.fn() }) }));

afterEach(() => {
  cleanup();
  vi.clearAllMocks();
});

const view: SettingsView = {
  settings: settings({ thinking_level: 'low' }),
  effective: settings({ thinking_level: 'low' }),
  prices: [{ model_prefix: 'gemini-2.5-flash', input_per_mtok: 0.3, output_per_mtok: 2.5 }],
  api_key: '••••3f9a',
  api_key_source: 'keyring',
};

function renderPage() {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <QueryClientProvider client={client}>
      <SettingsPage />
    </QueryClientProvider>,
  );
}

describe('SettingsPage', () => {
  it('shows the key masked, saves a new one and tests it', async () => {
    vi.mocked(api.getSettings).mockResolvedValue(view);
    vi.mocked(api.setApiKey).mockResolvedValue({ ...view, api_key: '••••WXYZ' });
    vi.mocked(api.testApiKey).mockRejectedValue(new api.CommandError('api_key', 'Gemini rejected the key (403).'));
    renderPage();
    expect((await screen.findByTestId('api-key-current')).textContent).toContain('••••3f9a');
    const input = screen.getByTestId<HTMLInputElement>('api-key-input');
    expect(input.type).toBe('password');
    fireEvent.change(input, { target: { value: ' AIzaSECRETWXYZ ' } });
    fireEvent.click(screen.getByTestId('api-key-save'));
    await waitFor(() => expect(api.setApiKey).toHaveBeenCalledWith('AIzaSECRETWXYZ'));
    await waitFor(() => expect(screen.getByTestId('api-key-current').textContent).toContain('••••WXYZ'));
    expect(input.value).toBe('');
    expect(document.body.textContent).not.toContain('AIzaSECRET');
    fireEvent.click(screen.getByTestId('api-key-test'));
    expect((await screen.findByRole('alert')).textContent).toBe('Gemini rejected the key (403).');
  });

  it('saves the settings whole and explains bad values', async () => {
    vi.mocked(api.getSettings).mockResolvedValue(view);
    vi.mocked(api.saveSettings).mockResolvedValue(view);
    renderPage();
    const conc = await screen.findByTestId('settings-concurrency');
    fireEvent.change(conc, { target: { value: '0' } });
    fireEvent.click(screen.getByTestId('settings-save'));
    expect(screen.getByTestId('settings-errors').textContent).toContain('must be a whole number from 1 to 64');
    expect(api.saveSettings).not.toHaveBeenCalled();
    fireEvent.change(conc, { target: { value: '6' } });
    fireEvent.change(screen.getByTestId('settings-rpm'), { target: { value: '60' } });
    fireEvent.click(screen.getByTestId('settings-save'));
    await waitFor(() =>
      expect(api.saveSettings).toHaveBeenCalledWith({ ...view.settings, concurrency: 6, requests_per_minute: 60 }, view.prices),
    );
  });

  it('asks to confirm the host a new base URL sends the key to, and saves the confirmation', async () => {
    vi.mocked(api.getSettings).mockResolvedValue(view);
    vi.mocked(api.saveSettings).mockResolvedValue(view);
    renderPage();
    const url = await screen.findByTestId('settings-base-url');
    expect(screen.queryByTestId('settings-confirm-host')).toBeNull();
    fireEvent.change(url, { target: { value: 'https://proxy.school.example/g' } });
    expect(screen.getByTestId('settings-confirm-host').textContent).toContain('Your API key will be sent to proxy.school.example');
    fireEvent.click(screen.getByTestId('settings-save'));
    expect(screen.getByTestId('settings-errors').textContent).toContain('tick the box');
    expect(api.saveSettings).not.toHaveBeenCalled();
    fireEvent.click(screen.getByTestId('settings-confirm-host-box'));
    // Another host: the box is unticked again.
    fireEvent.change(url, { target: { value: 'https://other.example' } });
    expect(screen.getByTestId<HTMLInputElement>('settings-confirm-host-box').checked).toBe(false);
    fireEvent.change(url, { target: { value: 'https://proxy.school.example/g' } });
    expect(screen.getByTestId<HTMLInputElement>('settings-confirm-host-box').checked).toBe(true);
    fireEvent.click(screen.getByTestId('settings-save'));
    await waitFor(() =>
      expect(api.saveSettings).toHaveBeenCalledWith(
        { ...view.settings, base_url: 'https://proxy.school.example/g', base_url_confirmed_host: 'proxy.school.example' },
        view.prices,
      ),
    );
  });
});
