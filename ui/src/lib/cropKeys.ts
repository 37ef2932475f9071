// Keyboard shortcuts of the crop page, as pure functions so they are tested without a DOM.
import type { Bbox } from '../api/types';
import { boxFromCorners, type Point } from './geometry';

/** What a key press on the crop page asks for. */
export type CropShortcut =
  | { kind: 'question'; index: number }
  | { kind: 'page'; delta: 1 | -1 }
  | { kind: 'submission'; delta: 1 | -1 };

export type KeyInput = { key: string; shiftKey: boolean; ctrlKey: boolean; metaKey: boolean; altKey: boolean };

/** The short help shown on the crop page (kept beside the mapping so they agree). */
export const CROP_SHORTCUTS_HELP: readonly [string, string][] = [
  ['1–9', 'question N for the box (a drawn box is sent)'],
  ['PgDn PgUp ] [', 'next / previous page'],
  ['Shift+PgDn PgUp } {', 'next / previous student'],
  ['Tab to a box', 'arrows move, Shift+arrows resize, Enter saves, Delete removes'],
  ['Middle-drag', 'pan a zoomed page'],
];

/**
 * The crop-page shortcut a key press means, or null. Keys with Ctrl, Cmd or Alt are left to
 * the browser and the system; Shift is allowed on digits (layouts where digits need it).
 */
export function cropShortcut(e: KeyInput): CropShortcut | null {
  if (e.ctrlKey || e.metaKey || e.altKey) return null;
  if (/^[1-9]$/.test(e.key)) return { kind: 'question', index: Number(e.key) - 1 };
  switch (e.key) {
    case 'PageDown':
      return e.shiftKey ? { kind: 'submission', delta: 1 } : { kind: 'page', delta: 1 };
    case 'PageUp':
      return e.shiftKey ? { kind: 'submission', delta: -1 } : { kind: 'page', delta: -1 };
    case ']':
      return { kind: 'page', delta: 1 };
    case '[':
      return { kind: 'page', delta: -1 };
    case '}':
      return { kind: 'submission', delta: 1 };
    case '{':
      return { kind: 'submission', delta: -1 };
    default:
      return null;
  }
}

/** True when the key press belongs to a text field or a list box (typing, not a shortcut). */
export function isTypingTarget(target: EventTarget | null): boolean {
  if (target === null || typeof (target as Partial<HTMLElement>).tagName !== 'string') return false;
  const el = target as HTMLElement;
  const tag = el.tagName.toUpperCase();
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  if (tag === 'INPUT') {
    const type = ((el as HTMLInputElement).type || 'text').toLowerCase();
    return !['button', 'checkbox', 'radio', 'submit', 'reset', 'file', 'range', 'color'].includes(type);
  }
  return el.isContentEditable === true;
}

/** The index `delta` away from `index` in a list of `length`, or null past either end. */
export function stepIndex(index: number, delta: number, length: number): number | null {
  const next = index + delta;
  return index < 0 || next < 0 || next >= length ? null : next;
}

export type Corner = 'nw' | 'ne' | 'sw' | 'se';

export const CORNERS: readonly Corner[] = ['nw', 'ne', 'sw', 'se'];

/** Resizes a box by dragging one corner to `p`; the opposite corner stays put. */
export function dragCorner(b: Bbox, corner: Corner, p: Point): Bbox {
  const fixed: Point = {
    x: corner === 'nw' || corner === 'sw' ? b.x + b.w : b.x,
    y: corner === 'nw' || corner === 'ne' ? b.y + b.h : b.y,
  };
  return boxFromCorners(fixed, p);
}

/** True when two boxes differ by less than a hundredth of a percent of the page. */
export function sameBox(a: Bbox, b: Bbox): boolean {
  const eps = 1e-4;
  return (
    Math.abs(a.x - b.x) < eps && Math.abs(a.y - b.y) < eps && Math.abs(a.w - b.w) < eps && Math.abs(a.h - b.h) < eps
  );
}
