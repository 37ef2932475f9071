import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as api from '../api';
import type { MatchRow, RosterEntry } from '../api/types';
import { LiveContext } from '../live/LiveContext';
import type { Live } from '../live/useLive';
import { exam, matchRow, rosterEntry } from '../test/fixtures';
import { MatchingPanel } from './MatchingPanel';

vi.mock('../api', async (importOriginal) => {
  const actual = await importOriginal<typeof api>();
  return {
    ...actual,
    roster: vi.fn(),
    matchRows: vi.fn(),
    setMatch: vi.fn(),
    importRoster: vi.fn(),
    nameBoxUrl: (id: number, box: string) => `gdimg://localhost/${box}/${id}`,
  };
});
vi.mock('sonner', () => ({ toast: Object.assign(vi.fn(), { success: vi.fn(), error: vi.fn() }) }));

afterEach(() => {
  cleanup();
  vi.clearAllMocks();
});

const live: Live = { snapshot: null, live: true, polling: false, seq: 0, error: null, loading: false, refresh: () => {} };

const entries: RosterEntry[] = [
  rosterEntry(1, 'Éloïse', 'Núñez', { submission_id: 11 }),
  rosterEntry(2, 'Marie', 'Curie'),
  rosterEntry(3, 'Marie', 'Dubois'),
  rosterEntry(4, 'Alan', 'Turing'),
];

const rows: MatchRow[] = [
  matchRow(11, { status: 'auto', student: 'Núñez, Éloïse', roster_id: '20260001', confidence: 0.97, read_name: 'Eloise Nunez' }),
  matchRow(12, {
    read_name: 'Marie',
    confidence: 0.62,
    suggestion: { entry_id: 3, roster_id: '20260003', student: 'Dubois, Marie' },
    name_crop: '/data/names/12-a.png',
  }),
  matchRow(13, { read_state: 'read' }),
];

function renderPanel(r = rows, e = entries) {
  vi.mocked(api.roster).mockResolvedValue(e);
  vi.mocked(api.matchRows).mockResolvedValue(r);
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(
    <QueryClientProvider client={client}>
      <LiveContext.Provider value={live}>
        <MatchingPanel exam={exam} />
      </LiveContext.Provider>
    </QueryClientProvider>,
  );
}

const highlighted = () => screen.getAllByRole('option').find((o) => o.getAttribute('aria-selected') === 'true');

describe('MatchingPanel', () => {
  it('opens on the first script waiting, its suggestion preselected, and lists who has no script', async () => {
    renderPanel();
    const detail = await screen.findByTestId('match-detail');
    expect(within(detail).getByTestId('read-text').textContent).toContain('“Marie”');
    expect(within(detail).getByTestId('match-status').textContent).toBe('Suggestion · 62%');
    expect(highlighted()?.textContent).toContain('Dubois, Marie');
    expect(highlighted()?.textContent).toContain('suggested');
    expect(screen.getByTestId('match-summary').textContent).toContain('2 waiting for you');
    const absent = screen.getByTestId('absent-students');
    expect(absent.textContent).toContain('Curie, Marie');
    expect(absent.textContent).toContain('Turing, Alan');
    expect(absent.textContent).not.toContain('Núñez');
  });

  it('confirms the highlighted student with Enter and goes on to the next script waiting', async () => {
    vi.mocked(api.setMatch).mockResolvedValue({ ...rows[1]!, status: 'confirmed' });
    renderPanel();
    const search = await screen.findByTestId('roster-search');
    fireEvent.keyDown(search, { key: 'Enter' });
    await waitFor(() => expect(api.setMatch).toHaveBeenCalledWith(exam.id, 12, '20260003'));
    await waitFor(() => expect(screen.getByTestId('read-text').textContent).toContain('blank'));
  });

  it('finds another student typed without accents and picks them with the arrows', async () => {
    vi.mocked(api.setMatch).mockResolvedValue({ ...rows[1]!, status: 'confirmed' });
    renderPanel();
    const search = await screen.findByTestId('roster-search');
    fireEvent.change(search, { target: { value: 'marie' } });
    expect(screen.getAllByRole('option').map((o) => o.textContent)).toEqual([
      expect.stringContaining('Curie, Marie'),
      expect.stringContaining('Dubois, Marie'),
    ]);
    fireEvent.keyDown(search, { key: 'ArrowUp' });
    expect(highlighted()?.textContent).toContain('Curie, Marie');
    fireEvent.click(screen.getByTestId('match-confirm'));
    await waitFor(() => expect(api.setMatch).toHaveBeenCalledWith(exam.id, 12, '20260002'));
  });

  it('chooses nobody for a blank name box until the teacher does, and Enter then does nothing', async () => {
    renderPanel();
    fireEvent.click(await screen.findByTestId('script-13'));
    expect(screen.getByTestId('read-text').textContent).toContain('blank');
    expect(highlighted()).toBeUndefined();
    // The students without a script come first: Núñez (who has script 11) is last.
    expect(screen.getAllByRole('option').at(-1)?.textContent).toContain('Núñez');
    fireEvent.keyDown(screen.getByTestId('roster-search'), { key: 'Enter' });
    expect(api.setMatch).not.toHaveBeenCalled();
    fireEvent.keyDown(screen.getByTestId('roster-search'), { key: 'ArrowDown' });
    expect(highlighted()?.textContent).toContain('Curie, Marie');
  });

  it('unmatches an automatic match as nobody on the roster', async () => {
    vi.mocked(api.setMatch).mockResolvedValue({ ...rows[0]!, status: 'unmatched', no_student: true });
    renderPanel();
    fireEvent.click(await screen.findByTestId('script-11'));
    expect(screen.getByTestId('match-status').textContent).toBe('Matched automatically · 97%');
    fireEvent.click(screen.getByTestId('match-none'));
    await waitFor(() => expect(api.setMatch).toHaveBeenCalledWith(exam.id, 11, null));
  });

  it('shows the lines of a roster file it left out', async () => {
    vi.mocked(api.importRoster).mockResolvedValue({
      students: 3,
      skipped: [{ line: 4, reason: 'the student ID 2026 is already on line 2' }],
    });
    renderPanel([], []);
    const file = new File(['Name,ID\n'], 'class.csv', { type: 'text/csv' });
    fireEvent.change(await screen.findByTestId('roster-file'), { target: { files: [file] } });
    const skipped = await screen.findByTestId('roster-skipped');
    expect(skipped.textContent).toContain('Line 4: the student ID 2026 is already on line 2');
  });
});
