import { useEffect, useRef, useState, type KeyboardEvent, type PointerEvent } from 'react';
import type { BBox, ItemView } from '../api/types';
import { boxFromCorners, nudgeBox, toFraction, type Point } from '../lib/geometry';

export type DrawnBox = { box: BBox; displayed: { width: number; height: number } };

type Props = {
  src: string;
  alt: string;
  /** Natural size of the page, for fitting it on screen. */
  pageWidth: number;
  pageHeight: number;
  zoom: number;
  items: ItemView[];
  highlightId: number | null;
  draft: BBox | null;
  onDraw: (drawn: DrawnBox) => void;
  onDraftChange: (box: BBox | null) => void;
};

type Drag = { pointerId: number; start: Point; current: Point };

const FALLBACK_WIDTH = 800;

const pct = (v: number) => `${(v * 100).toFixed(3)}%`;

function boxStyle(b: BBox) {
  return { left: pct(b.x), top: pct(b.y), width: pct(b.w), height: pct(b.h) };
}

/** The page image with an overlay on which the teacher drags out a box. */
export function CropStage(props: Props) {
  const { src, alt, pageWidth, pageHeight, zoom, items, highlightId, draft, onDraw, onDraftChange } = props;
  const viewportRef = useRef<HTMLDivElement>(null);
  const [avail, setAvail] = useState<{ w: number; h: number } | null>(null);
  const [drag, setDrag] = useState<Drag | null>(null);

  // Fit the page into the space the viewport offers (re-measured on resize).
  useEffect(() => {
    const el = viewportRef.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const ro = new ResizeObserver(([entry]) => {
      if (!entry) return;
      const { width, height } = entry.contentRect;
      setAvail({ w: width, h: height });
    });
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const ratio = pageWidth > 0 && pageHeight > 0 ? pageHeight / pageWidth : 1.414;
  let fitWidth = FALLBACK_WIDTH;
  if (avail !== null && avail.w > 0) {
    fitWidth = avail.h > 0 ? Math.min(avail.w, avail.h / ratio) : avail.w;
  }
  const width = Math.max(120, Math.floor(fitWidth * zoom));
  const height = Math.floor(width * ratio);

  function fraction(e: PointerEvent<HTMLDivElement>): Point {
    const rect = e.currentTarget.getBoundingClientRect();
    return toFraction({ x: e.clientX, y: e.clientY }, rect);
  }

  function onPointerDown(e: PointerEvent<HTMLDivElement>) {
    if (e.button !== 0 || drag !== null) return;
    e.preventDefault();
    e.currentTarget.focus({ preventScroll: true });
    try {
      e.currentTarget.setPointerCapture(e.pointerId);
    } catch {
      // Capture is a nicety (drags that leave the image); drawing works without it.
    }
    const p = fraction(e);
    setDrag({ pointerId: e.pointerId, start: p, current: p });
  }

  function onPointerMove(e: PointerEvent<HTMLDivElement>) {
    if (drag === null || e.pointerId !== drag.pointerId) return;
    setDrag({ ...drag, current: fraction(e) });
  }

  function onPointerUp(e: PointerEvent<HTMLDivElement>) {
    if (drag === null || e.pointerId !== drag.pointerId) return;
    const rect = e.currentTarget.getBoundingClientRect();
    const box = boxFromCorners(drag.start, fraction(e));
    setDrag(null);
    onDraw({ box, displayed: { width: rect.width, height: rect.height } });
  }

  function onKeyDown(e: KeyboardEvent<HTMLDivElement>) {
    const step = e.altKey ? 0.05 : 0.01;
    const moves: Record<string, [number, number]> = {
      ArrowLeft: [-step, 0],
      ArrowRight: [step, 0],
      ArrowUp: [0, -step],
      ArrowDown: [0, step],
    };
    const move = moves[e.key];
    if (move) {
      if (draft === null) return;
      e.preventDefault();
      onDraftChange(nudgeBox(draft, move[0], move[1], e.shiftKey));
    } else if ((e.key === 'Enter' || e.key === ' ') && draft === null) {
      e.preventDefault();
      onDraftChange({ x: 0.1, y: 0.1, w: 0.8, h: 0.2 });
    } else if (e.key === 'Escape' && draft !== null) {
      e.preventDefault();
      onDraftChange(null);
    }
  }

  const shown = drag !== null ? boxFromCorners(drag.start, drag.current) : draft;

  return (
    <div className="stage-viewport" ref={viewportRef}>
      <div className="stage" style={{ width, height }}>
        <img
          className="page-image"
          data-testid="page-image"
          src={src}
          alt={alt}
          draggable={false}
          width={width}
          height={height}
        />
        <div
          className={`crop-surface${drag !== null ? ' is-drawing' : ''}`}
          data-testid="crop-surface"
          tabIndex={0}
          role="group"
          aria-label="Answer area. Drag to draw a box around an answer. Keyboard: Enter adds a box, arrow keys move it, Shift with arrows resizes it, Escape removes it."
          onPointerDown={onPointerDown}
          onPointerMove={onPointerMove}
          onPointerUp={onPointerUp}
          onPointerCancel={() => setDrag(null)}
          onLostPointerCapture={(e) => {
            if (drag !== null && e.pointerId === drag.pointerId) setDrag(null);
          }}
          onKeyDown={onKeyDown}
        >
          {items.map((item) => (
            <div
              key={item.item_id}
              className={`item-box state-${item.state}${highlightId === item.item_id ? ' is-highlighted' : ''}`}
              data-testid={`item-box-${item.item_id}`}
              data-state={item.state}
              style={boxStyle(item.bbox)}
              aria-hidden="true"
            >
              <span className="item-box-label">{item.question_label}</span>
            </div>
          ))}
          {shown !== null && (
            <div className="draft-box" data-testid="crop-rect" style={boxStyle(shown)} aria-hidden="true" />
          )}
        </div>
      </div>
    </div>
  );
}
