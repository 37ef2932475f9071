import { describe, expect, it } from 'vitest';
import { cropShortcut, dragCorner, isTypingTarget, sameBox, stepIndex, type KeyInput } from './cropKeys';

const key = (k: string, mods: Partial<KeyInput> = {}): KeyInput => ({
  key: k,
  shiftKey: false,
  ctrlKey: false,
  metaKey: false,
  altKey: false,
  ...mods,
});

describe('cropShortcut', () => {
  it('maps digits 1–9 to the Nth question, and not 0', () => {
    expect(cropShortcut(key('1'))).toEqual({ kind: 'question', index: 0 });
    expect(cropShortcut(key('9'))).toEqual({ kind: 'question', index: 8 });
    expect(cropShortcut(key('3', { shiftKey: true }))).toEqual({ kind: 'question', index: 2 });
    expect(cropShortcut(key('0'))).toBeNull();
  });

  it('maps PageDown/PageUp and brackets to pages, with Shift or braces to students', () => {
    expect(cropShortcut(key('PageDown'))).toEqual({ kind: 'page', delta: 1 });
    expect(cropShortcut(key('PageUp'))).toEqual({ kind: 'page', delta: -1 });
    expect(cropShortcut(key(']'))).toEqual({ kind: 'page', delta: 1 });
    expect(cropShortcut(key('['))).toEqual({ kind: 'page', delta: -1 });
    expect(cropShortcut(key('PageDown', { shiftKey: true }))).toEqual({ kind: 'submission', delta: 1 });
    expect(cropShortcut(key('PageUp', { shiftKey: true }))).toEqual({ kind: 'submission', delta: -1 });
    expect(cropShortcut(key('}', { shiftKey: true }))).toEqual({ kind: 'submission', delta: 1 });
    expect(cropShortcut(key('{', { shiftKey: true }))).toEqual({ kind: 'submission', delta: -1 });
  });

  it('leaves keys with Ctrl, Cmd or Alt, and other keys, alone', () => {
    expect(cropShortcut(key('1', { ctrlKey: true }))).toBeNull();
    expect(cropShortcut(key('PageDown', { metaKey: true }))).toBeNull();
    expect(cropShortcut(key(']', { altKey: true }))).toBeNull();
    expect(cropShortcut(key('a'))).toBeNull();
    expect(cropShortcut(key('Enter'))).toBeNull();
  });
});

describe('isTypingTarget', () => {
  it('is true for text inputs, text areas, selects and editable content only', () => {
    const make = (tag: string, type?: string) => {
      const el = document.createElement(tag);
      if (type) el.setAttribute('type', type);
      return el;
    };
    expect(isTypingTarget(make('input'))).toBe(true);
    expect(isTypingTarget(make('input', 'number'))).toBe(true);
    expect(isTypingTarget(make('textarea'))).toBe(true);
    expect(isTypingTarget(make('select'))).toBe(true);
    expect(isTypingTarget(make('input', 'checkbox'))).toBe(false);
    expect(isTypingTarget(make('button'))).toBe(false);
    expect(isTypingTarget(make('div'))).toBe(false);
    expect(isTypingTarget(null)).toBe(false);
    expect(isTypingTarget(window)).toBe(false);
  });
});

describe('stepIndex', () => {
  it('moves within the list and stops at both ends', () => {
    expect(stepIndex(0, 1, 3)).toBe(1);
    expect(stepIndex(2, 1, 3)).toBeNull();
    expect(stepIndex(0, -1, 3)).toBeNull();
    expect(stepIndex(-1, 1, 3)).toBeNull();
  });
});

describe('dragCorner', () => {
  const b = { x: 0.2, y: 0.2, w: 0.4, h: 0.2 };
  it('keeps the opposite corner fixed', () => {
    const se = dragCorner(b, 'se', { x: 0.8, y: 0.5 });
    expect(se.x).toBeCloseTo(0.2);
    expect(se.y).toBeCloseTo(0.2);
    expect(se.w).toBeCloseTo(0.6);
    expect(se.h).toBeCloseTo(0.3);
    const nw = dragCorner(b, 'nw', { x: 0.1, y: 0.1 });
    expect(nw.x).toBeCloseTo(0.1);
    expect(nw.y).toBeCloseTo(0.1);
    expect(nw.w).toBeCloseTo(0.5);
    expect(nw.h).toBeCloseTo(0.3);
  });

  it('flips when a corner is dragged past the opposite one', () => {
    const flipped = dragCorner(b, 'ne', { x: 0.1, y: 0.5 });
    expect(flipped.x).toBeCloseTo(0.1);
    expect(flipped.y).toBeCloseTo(0.4);
    expect(flipped.w).toBeCloseTo(0.1);
    expect(flipped.h).toBeCloseTo(0.1);
  });

  it('tells a moved box from an unchanged one', () => {
    expect(sameBox(b, { ...b })).toBe(true);
    expect(sameBox(b, { ...b, x: 0.21 })).toBe(false);
  });
});
