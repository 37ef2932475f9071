import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { act, cleanup, render, screen, waitFor } from '@testing-library/react';
import { toast } from 'sonner';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import * as api from '../api';
import type { FileDrag } from '../api/types';
import { exam } from '../test/fixtures';
import { DropZone } from './DropZone';

vi.mock('sonner', () => ({
  toast: Object.assign(vi.fn(), {
    success: vi.fn(),
    error: vi.fn(),
    info: vi.fn(),
    loading: vi.fn(() => 'loading'),
    dismiss: vi.fn(),
  }),
}));
vi.mock('../api', async (original) => ({ ...(await original<typeof api>()), importPaths: vi.fn() }));

function setup(withExam = true) {
  let send: (drag: FileDrag) => void = () => {};
  const unlisten = vi.fn();
  const subscribe = (handler: (drag: FileDrag) => void) => {
    send = handler;
    return Promise.resolve(unlisten);
  };
  const view = render(
    <QueryClientProvider client={new QueryClient()}>
      <DropZone exam={withExam ? exam : null} subscribe={subscribe} />
    </QueryClientProvider>,
  );
  const drag = async (d: FileDrag) => {
    await act(async () => {
      send(d);
      await Promise.resolve();
    });
  };
  return { drag, unlisten, view };
}

beforeEach(() => vi.clearAllMocks());
afterEach(cleanup);

describe('DropZone', () => {
  it('shows the overlay while files are over the window and imports a drop into the exam', async () => {
    vi.mocked(api.importPaths).mockResolvedValue({
      imported: [{ submission_id: 1, file: 'ada.pdf', pages: 2 }],
      skipped: [{ file: 'notes.txt', reason: 'not a scan' }],
      failed: [],
    });
    const { drag } = setup();
    await waitFor(() => expect(screen.queryByTestId('drop-overlay')).toBeNull());
    await drag({ type: 'enter', paths: ['/scans/class'] });
    expect(screen.getByTestId('drop-overlay').textContent).toContain('Drop to import 1 item');
    expect(screen.getByTestId('drop-overlay').textContent).toContain('Physics mid-term');
    await drag({ type: 'drop', paths: ['/scans/class'] });
    expect(screen.queryByTestId('drop-overlay')).toBeNull();
    expect(api.importPaths).toHaveBeenCalledWith(1, ['/scans/class']);
    await waitFor(() => expect(toast.success).toHaveBeenCalledWith('Imported ada.pdf', { description: '2 pages' }));
    expect(toast.info).toHaveBeenCalledWith('1 file skipped', { description: 'notes.txt: not a scan', duration: 8000 });
  });

  it('hides when the drag leaves', async () => {
    const { drag } = setup();
    await waitFor(() => expect(screen.queryByTestId('drop-overlay')).toBeNull());
    await drag({ type: 'enter', paths: ['/a.jpg'] });
    await drag({ type: 'leave' });
    expect(screen.queryByTestId('drop-overlay')).toBeNull();
  });

  it('refuses a drop when there is no exam, saying why', async () => {
    const { drag } = setup(false);
    await waitFor(() => expect(screen.queryByTestId('drop-overlay')).toBeNull());
    await drag({ type: 'enter', paths: ['/a.jpg'] });
    expect(screen.getByTestId('drop-overlay').textContent).toContain('Create an exam first');
    await drag({ type: 'drop', paths: ['/a.jpg'] });
    expect(api.importPaths).not.toHaveBeenCalled();
    expect(toast.error).toHaveBeenCalledWith(expect.stringContaining('Create an exam first'), { id: 'drop-refused' });
  });

  it('stops listening when unmounted', async () => {
    const { unlisten, view } = setup();
    await waitFor(() => expect(unlisten).not.toHaveBeenCalled());
    view.unmount();
    expect(unlisten).toHaveBeenCalled();
  });
});
