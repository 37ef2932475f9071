// Pure helpers behind the progress panel: what the queue is doing and why it is blocked.
import type { Exam, ItemState, Pause, Progress, QueueStatus } from '../api/types';
import { STATE_LABEL } from './format';

/** "14:05" in the teacher's locale; with the date when it is not today. */
export function formatClock(ms: number, now: number = Date.now()): string {
  const d = new Date(ms);
  const time = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  const sameDay = new Date(now).toDateString() === d.toDateString();
  return sameDay ? time : `${d.toLocaleDateString([], { weekday: 'short', day: 'numeric', month: 'short' })} ${time}`;
}

/** 40 → "under a minute", 150 → "about 3 min", 4000 → "about 1 h 7 min". */
export function formatEta(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '–';
  if (seconds < 60) return 'under a minute';
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `about ${minutes} min`;
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return m === 0 ? `about ${h} h` : `about ${h} h ${m} min`;
}

/** 6 → "6 / min", 0.25 → "0.3 / min". */
export function formatRate(perMinute: number): string {
  if (!Number.isFinite(perMinute) || perMinute <= 0) return '–';
  return perMinute >= 10 ? `${Math.round(perMinute)} / min` : `${Math.round(perMinute * 10) / 10} / min`;
}

export function overallProgress(queue: QueueStatus | undefined): Progress | null {
  return queue?.progress.find((p) => p.exam_id === null) ?? null;
}

export function examProgress(queue: QueueStatus | undefined, examId: number): Progress | null {
  return queue?.progress.find((p) => p.exam_id === examId) ?? null;
}

export function allPaused(queue: QueueStatus | undefined): Pause | null {
  return queue?.pauses.find((p) => p.scope.scope === 'all') ?? null;
}

export function examPaused(queue: QueueStatus | undefined, examId: number): Pause | null {
  return queue?.pauses.find((p) => p.scope.scope === 'exam' && p.scope.exam_id === examId) ?? null;
}

export type Blocker = { kind: 'halted' | 'provider' | 'pause'; text: string; hint?: string };

function examName(exams: Exam[], id: number): string {
  const e = exams.find((x) => x.id === id);
  return e ? `“${e.name}”` : `exam ${id}`;
}

function pauseText(p: Pause, exams: Exam[], now: number): string {
  const what = p.scope.scope === 'all' ? 'All grading' : `Grading of ${examName(exams, p.scope.exam_id)}`;
  const reason = p.reason.trim();
  const until = p.until_ms !== null ? ` until ${formatClock(p.until_ms, now)}` : '';
  return `${what} is paused${until}${reason !== '' ? ` (${reason})` : ''}.`;
}

/** Every reason answers are not being graded right now, most serious first, as sentences. */
export function blockers(queue: QueueStatus | undefined, exams: Exam[], now: number = Date.now()): Blocker[] {
  if (queue === undefined) return [];
  const out: Blocker[] = [];
  if (queue.halted !== null && queue.halted.trim() !== '') {
    out.push({
      kind: 'halted',
      text: `Grading has stopped: ${queue.halted.trim()}`,
      hint: 'Fix this in Settings (API key or model), then press Resume.',
    });
  }
  const { hold, next_try_at_ms: at } = queue.provider;
  if (hold !== null) {
    const next = at !== null ? ` — next try at ${formatClock(at, now)}` : '';
    const text =
      hold === 'offline'
        ? `Waiting for network${next}.`
        : hold === 'unavailable'
          ? `Gemini unavailable${next}.`
          : `Rate limited by Gemini${next}.`;
    out.push({ kind: 'provider', text, hint: 'Grading continues by itself; nothing is lost.' });
  }
  for (const p of queue.pauses) out.push({ kind: 'pause', text: pauseText(p, exams, now) });
  return out;
}

/** Why waiting answers are not being graded right now, in a status pill's words. */
export type Hold = { label: string; detail: string };

/**
 * The hold on an exam's waiting (queued or retrying) answers, so each one says what it
 * waits for — the key, the teacher's pause, the network, Gemini — instead of a bare
 * "Queued"; null when they simply wait their turn. A halt needs the teacher, so it comes
 * first; then a pause they chose; then the provider, which clears by itself.
 */
export function waitingHold(queue: QueueStatus | undefined, examId: number, now: number = Date.now()): Hold | null {
  if (queue === undefined) return null;
  const halted = queue.halted?.trim() ?? '';
  if (halted !== '') {
    return {
      label: /key/i.test(halted) ? 'Waiting for API key' : 'Waiting for settings',
      detail: `Grading has stopped: ${halted}. Fix it in Settings, then press Resume.`,
    };
  }
  const pause = allPaused(queue) ?? examPaused(queue, examId);
  if (pause !== null) {
    const until = pause.until_ms !== null ? ` until ${formatClock(pause.until_ms, now)}` : '';
    const reason = pause.reason.trim() !== '' ? ` (${pause.reason.trim()})` : '';
    return { label: 'Paused', detail: `Grading is paused${until}${reason}.` };
  }
  const { hold, next_try_at_ms: at } = queue.provider;
  if (hold === null) return null;
  const next = at !== null ? ` Next try at ${formatClock(at, now)}.` : '';
  if (hold === 'offline') return { label: 'Waiting for network', detail: `No connection to Gemini.${next}` };
  if (hold === 'unavailable') return { label: 'Waiting for Gemini', detail: `Gemini is unavailable.${next}` };
  return { label: 'Rate limited', detail: `Gemini asked us to slow down.${next}` };
}

/** The hold on one answer: only a waiting (queued or retrying) answer is held. */
export function heldBy(state: ItemState, hold: Hold | null): Hold | null {
  return state === 'queued' || state === 'retrying' ? hold : null;
}

/** What an answer's pill says: its state, or for a waiting answer what holds it. */
export function itemStatusLabel(state: ItemState, hold: Hold | null): string {
  return heldBy(state, hold)?.label ?? STATE_LABEL[state];
}
