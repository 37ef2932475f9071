import { useEffect, useRef, useState, type KeyboardEvent, type PointerEvent } from 'react';
import type { Bbox, ItemView } from '../api/types';
import { itemStatusLabel, type Hold } from '../lib/queue';
import { CORNERS, dragCorner, sameBox, type Corner } from '../lib/cropKeys';
import { boxFromCorners, clampBox, isTooSmall, nudgeBox, toFraction, type Point } from '../lib/geometry';

/** The step an arrow key moves a box by (Alt: a bigger step), or undefined for other keys. */
function arrowMove(e: KeyboardEvent<HTMLDivElement>): [number, number] | undefined {
  const step = e.altKey ? 0.05 : 0.01;
  const moves: Record<string, [number, number]> = {
    ArrowLeft: [-step, 0],
    ArrowRight: [step, 0],
    ArrowUp: [0, -step],
    ArrowDown: [0, step],
  };
  return moves[e.key];
}

/** What the stage draws as a box: an answer, or a region of the template. */
export type StageItem = Pick<ItemView, 'item_id' | 'bbox' | 'question_label' | 'state'>;

export type DrawnBox = { box: Bbox; displayed: { width: number; height: number } };

/** An existing answer box being edited: its id and its geometry so far (not yet saved). */
export type Selection = { itemId: number; box: Bbox };

type Props<T extends StageItem> = {
  src: string;
  /** What holds the waiting answers (key, pause, network): each waiting box says so. */
  hold?: Hold | null;
  alt: string;
  /** Natural size of the page, for fitting it on screen. */
  pageWidth: number;
  pageHeight: number;
  zoom: number;
  items: T[];
  highlightId: number | null;
  draft: Bbox | null;
  onDraw: (drawn: DrawnBox) => void;
  onDraftChange: (box: Bbox | null) => void;
  selection: Selection | null;
  /** An existing box was clicked or focused (null: the selection was let go). */
  onSelect: (item: T | null) => void;
  /** The selected box was moved or resized (not saved yet). */
  onEditChange: (box: Bbox) => void;
  /** Save the selected box's new geometry (a re-crop, graded again). */
  onEditCommit: (box: Bbox) => void;
  onDelete: (item: T) => void;
  /** The words a box shows (default: its answer's grading state). */
  statusText?: (item: T) => string;
  /** What a box is, for screen readers (default: "answer box"). */
  boxName?: string;
};

type Pan = { pointerId: number; x: number; y: number; left: number; top: number };

type Drag =
  | { kind: 'draw'; pointerId: number; start: Point; current: Point }
  | { kind: 'move'; pointerId: number; item: StageItem; original: Bbox; start: Point; current: Point }
  | { kind: 'resize'; pointerId: number; item: StageItem; original: Bbox; corner: Corner; current: Point };

/** The box a move or resize drag has produced so far. */
function draggedBox(d: Drag): Bbox {
  switch (d.kind) {
    case 'draw':
      return boxFromCorners(d.start, d.current);
    case 'move':
      return nudgeBox(d.original, d.current.x - d.start.x, d.current.y - d.start.y, false);
    case 'resize':
      return clampBox(dragCorner(d.original, d.corner, d.current));
  }
}

const FALLBACK_WIDTH = 800;

const pct = (v: number) => `${(v * 100).toFixed(3)}%`;

function boxStyle(b: Bbox) {
  return { left: pct(b.x), top: pct(b.y), width: pct(b.w), height: pct(b.h) };
}

/** The page image with an overlay on which the teacher drags out a box. */
export function CropStage<T extends StageItem>(props: Props<T>) {
  const { src, alt, pageWidth, pageHeight, zoom, items, highlightId, draft, onDraw, onDraftChange } = props;
  const { selection, onSelect, onEditChange, onEditCommit, onDelete, hold = null } = props;
  const statusOf = props.statusText ?? ((item: T) => itemStatusLabel(item.state, hold));
  const boxName = props.boxName ?? 'answer box';
  const viewportRef = useRef<HTMLDivElement>(null);
  const surfaceRef = useRef<HTMLDivElement>(null);
  const [avail, setAvail] = useState<{ w: number; h: number } | null>(null);
  const [drag, setDrag] = useState<Drag | null>(null);
  const [pan, setPan] = useState<Pan | null>(null);

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
    const viewport = viewportRef.current;
    if (e.button === 1 && drag === null && pan === null && viewport) {
      // Middle-drag pans a zoomed page (the viewport scrolls).
      e.preventDefault();
      try {
        e.currentTarget.setPointerCapture(e.pointerId);
      } catch {
        // Without capture the pan stops at the image's edge.
      }
      setPan({ pointerId: e.pointerId, x: e.clientX, y: e.clientY, left: viewport.scrollLeft, top: viewport.scrollTop });
      return;
    }
    if (e.button !== 0 || drag !== null) return;
    e.preventDefault();
    const target = e.target as HTMLElement;
    const boxEl = target.closest<HTMLElement>('[data-item-id]');
    const item = boxEl ? items.find((i) => String(i.item_id) === boxEl.dataset.itemId) : undefined;
    if (item && boxEl) boxEl.focus({ preventScroll: true });
    else e.currentTarget.focus({ preventScroll: true });
    try {
      e.currentTarget.setPointerCapture(e.pointerId);
    } catch {
      // Capture is a nicety (drags that leave the image); drawing works without it.
    }
    const p = fraction(e);
    if (item) {
      const original = selection?.itemId === item.item_id ? selection.box : item.bbox;
      onSelect(item);
      const corner = target.closest<HTMLElement>('[data-corner]')?.dataset.corner as Corner | undefined;
      setDrag(
        corner
          ? { kind: 'resize', pointerId: e.pointerId, item, original, corner, current: p }
          : { kind: 'move', pointerId: e.pointerId, item, original, start: p, current: p },
      );
      return;
    }
    if (selection !== null) onSelect(null);
    setDrag({ kind: 'draw', pointerId: e.pointerId, start: p, current: p });
  }

  function onPointerMove(e: PointerEvent<HTMLDivElement>) {
    const viewport = viewportRef.current;
    if (pan !== null && e.pointerId === pan.pointerId && viewport) {
      viewport.scrollLeft = pan.left - (e.clientX - pan.x);
      viewport.scrollTop = pan.top - (e.clientY - pan.y);
      return;
    }
    if (drag === null || e.pointerId !== drag.pointerId) return;
    setDrag({ ...drag, current: fraction(e) });
  }

  function onPointerUp(e: PointerEvent<HTMLDivElement>) {
    if (pan !== null && e.pointerId === pan.pointerId) {
      setPan(null);
      return;
    }
    if (drag === null || e.pointerId !== drag.pointerId) return;
    const rect = e.currentTarget.getBoundingClientRect();
    const displayed = { width: rect.width, height: rect.height };
    const box = draggedBox({ ...drag, current: fraction(e) });
    setDrag(null);
    if (drag.kind === 'draw') {
      onDraw({ box, displayed });
    } else if (!sameBox(box, drag.original) && !isTooSmall(box, displayed)) {
      onEditChange(box);
      onEditCommit(box);
    }
  }

  function onBoxKeyDown(e: KeyboardEvent<HTMLDivElement>, item: T) {
    const box = selection?.itemId === item.item_id ? selection.box : item.bbox;
    const move = arrowMove(e);
    if (move) {
      onEditChange(nudgeBox(box, move[0], move[1], e.shiftKey));
    } else if (e.key === 'Enter') {
      if (sameBox(box, item.bbox)) return;
      onEditCommit(box);
    } else if (e.key === 'Delete' || e.key === 'Backspace') {
      onDelete(item);
    } else if (e.key === 'Escape') {
      onSelect(null);
      surfaceRef.current?.focus({ preventScroll: true });
    } else {
      return;
    }
    e.preventDefault();
    e.stopPropagation();
  }

  function onKeyDown(e: KeyboardEvent<HTMLDivElement>) {
    const move = arrowMove(e);
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

  const shown = drag?.kind === 'draw' ? draggedBox(drag) : draft;
  const editing = drag !== null && drag.kind !== 'draw' ? { itemId: drag.item.item_id, box: draggedBox(drag) } : selection;

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
          className={`crop-surface${drag?.kind === 'draw' ? ' is-drawing' : ''}${pan !== null ? ' is-panning' : ''}`}
          data-testid="crop-surface"
          ref={surfaceRef}
          tabIndex={0}
          role="group"
          aria-label="Answer area. Drag to draw a box around an answer. Keyboard: Enter adds a box, arrow keys move it, Shift with arrows resizes it, Escape removes it. Tab reaches the existing answer boxes to move, resize or delete them."
          onPointerDown={onPointerDown}
          onPointerMove={onPointerMove}
          onPointerUp={onPointerUp}
          onPointerCancel={() => {
            setDrag(null);
            setPan(null);
          }}
          onLostPointerCapture={(e) => {
            if (drag !== null && e.pointerId === drag.pointerId) setDrag(null);
            if (pan !== null && e.pointerId === pan.pointerId) setPan(null);
          }}
          onKeyDown={onKeyDown}
        >
          {items.map((item) => {
            const selected = editing?.itemId === item.item_id;
            const box = selected ? editing.box : item.bbox;
            return (
              <div
                key={item.item_id}
                className={`item-box state-${item.state}${highlightId === item.item_id ? ' is-highlighted' : ''}${selected ? ' is-selected' : ''}`}
                data-testid={`item-box-${item.item_id}`}
                data-item-id={item.item_id}
                data-state={item.state}
                style={boxStyle(box)}
                tabIndex={0}
                role="button"
                aria-pressed={selected}
                aria-label={`${item.question_label} ${boxName}, ${statusOf(item)}. Arrow keys move it, Shift with arrows resizes it, Enter saves it and grades it again, Delete removes it, Escape lets go.`}
                onFocus={() => {
                  if (!selected) onSelect(item);
                }}
                onKeyDown={(e) => onBoxKeyDown(e, item)}
              >
                <span className="item-box-label" aria-hidden="true">
                  {item.question_label}
                </span>
                <span className="item-box-status" aria-hidden="true" data-testid={`item-box-status-${item.item_id}`}>
                  {item.state === 'grading' && <span className="spinner" />}
                  {/* State words, not the score (that stays in the list): text that changes
                      over the page image makes the webview repaint the stage, measured
                      33 -> 90 ms per event (software rendering, Xvfb). */}
                  {statusOf(item)}
                </span>
                {selected &&
                  CORNERS.map((c) => (
                    <span key={c} className={`item-handle handle-${c}`} data-corner={c} aria-hidden="true" />
                  ))}
              </div>
            );
          })}
          {shown !== null && (
            <div className="draft-box" data-testid="crop-rect" style={boxStyle(shown)} aria-hidden="true" />
          )}
        </div>
      </div>
    </div>
  );
}
