import type { Bbox } from '../api/types';

export type Point = { x: number; y: number };
export type Rect = { left: number; top: number; width: number; height: number };

export const clamp01 = (v: number): number => (v < 0 ? 0 : v > 1 ? 1 : v);

/** A client-space point as a fraction of `rect` (origin top-left), clamped to [0, 1]. */
export function toFraction(p: Point, rect: Rect): Point {
  if (rect.width <= 0 || rect.height <= 0) return { x: 0, y: 0 };
  return {
    x: clamp01((p.x - rect.left) / rect.width),
    y: clamp01((p.y - rect.top) / rect.height),
  };
}

/** The box spanned by two corners, in any drag direction. */
export function boxFromCorners(a: Point, b: Point): Bbox {
  const x = Math.min(a.x, b.x);
  const y = Math.min(a.y, b.y);
  return { x, y, w: Math.abs(a.x - b.x), h: Math.abs(a.y - b.y) };
}

/** Clamps a box to the page: x, y, w, h all in [0, 1] and x + w, y + h ≤ 1. */
export function clampBox(b: Bbox): Bbox {
  const x = clamp01(b.x);
  const y = clamp01(b.y);
  return { x, y, w: clamp01(Math.min(b.w, 1 - x)), h: clamp01(Math.min(b.h, 1 - y)) };
}

/** Smallest side, in displayed pixels, of a box worth grading. */
export const MIN_BOX_PX = 4;

/** True when the box is too small on screen to be a real selection (a click, a sliver). */
export function isTooSmall(b: Bbox, rect: Pick<Rect, 'width' | 'height'>): boolean {
  return b.w <= 0 || b.h <= 0 || b.w * rect.width < MIN_BOX_PX || b.h * rect.height < MIN_BOX_PX;
}

/** Moves (or with `resize`, grows) a box by a step, staying on the page. */
export function nudgeBox(b: Bbox, dx: number, dy: number, resize: boolean): Bbox {
  if (resize) {
    return clampBox({ ...b, w: Math.max(0.01, b.w + dx), h: Math.max(0.01, b.h + dy) });
  }
  const x = Math.min(Math.max(0, b.x + dx), 1 - b.w);
  const y = Math.min(Math.max(0, b.y + dy), 1 - b.h);
  return clampBox({ ...b, x, y });
}
