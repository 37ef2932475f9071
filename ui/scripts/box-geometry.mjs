// The geometry both the Chromium screen test (ui-screens.mjs) and the real-window e2e
// (tests/e2e/run.mjs) check: an answer box on screen must cover the part of the page image its
// stored bbox names. A bbox is fractions of the page, origin top-left; rects are client pixels.

/** How far, in px, a box may be from where its bbox puts it (rounding of % widths, borders). */
export const TOLERANCE_PX = 2;

/** Where `bbox` belongs on screen, given the page image's client rect. */
export function rectOfBbox(bbox, image) {
  return {
    left: image.left + bbox.x * image.width,
    top: image.top + bbox.y * image.height,
    width: bbox.w * image.width,
    height: bbox.h * image.height,
  };
}

/** The client rect a pointer drag from `a` to `b` spans (either direction). */
export function rectOfDrag(a, b) {
  return { left: Math.min(a.x, b.x), top: Math.min(a.y, b.y), width: Math.abs(a.x - b.x), height: Math.abs(a.y - b.y) };
}

/** The largest distance, in px, between matching edges of two rects. */
export function edgeError(a, b) {
  return Math.max(
    Math.abs(a.left - b.left),
    Math.abs(a.top - b.top),
    Math.abs(a.left + a.width - (b.left + b.width)),
    Math.abs(a.top + a.height - (b.top + b.height)),
  );
}

const show = (r) => `(${r.left.toFixed(1)}, ${r.top.toFixed(1)}) ${r.width.toFixed(1)}×${r.height.toFixed(1)}`;

/**
 * Compares a measured rect with where it should be. Returns the error in px and, when it is
 * above the tolerance, a sentence saying what is where.
 */
export function compareRect(what, shown, expected) {
  const error = edgeError(shown, expected);
  const problem =
    error > TOLERANCE_PX
      ? `${what} is drawn at ${show(shown)} but belongs at ${show(expected)} (off by ${error.toFixed(1)} px)`
      : null;
  return { error, problem };
}

/**
 * Every answer box on the page against its stored bbox. `stored` is the list of items the page
 * should show (item_id, question_label, bbox); a box missing or extra is a problem too.
 * Returns the largest error in px and the problems found.
 */
export function compareBoxes(stage, stored, where) {
  const problems = [];
  let maxError = 0;
  const shown = new Map(stage.boxes.map((b) => [b.id, b]));
  for (const item of stored) {
    const box = shown.get(item.item_id);
    if (!box) {
      problems.push(`${where}: the ${item.question_label} box (item ${item.item_id}) is not drawn`);
      continue;
    }
    const r = compareRect(`${where}: the ${item.question_label} box (item ${item.item_id})`, box.rect, rectOfBbox(item.bbox, stage.image));
    maxError = Math.max(maxError, r.error);
    if (r.problem) problems.push(r.problem);
    shown.delete(item.item_id);
  }
  for (const extra of shown.values()) problems.push(`${where}: box ${extra.id} is drawn but not stored for this page`);
  return { maxError, problems };
}

/**
 * Runs in the page (Playwright's evaluate, WebDriver's executeScript), so it uses nothing from
 * this module: the page image's client rect, each answer box's rect by item id, the drawn
 * draft's rect (if any), and the stage viewport's rect and scroll.
 */
export function measureStage() {
  const rect = (el) => {
    const r = el.getBoundingClientRect();
    return { left: r.left, top: r.top, width: r.width, height: r.height };
  };
  const image = document.querySelector('[data-testid="page-image"]');
  const draft = document.querySelector('[data-testid="crop-rect"]');
  const viewport = document.querySelector('.stage-viewport');
  return {
    loaded: Boolean(image && image.complete && image.naturalWidth > 0),
    image: image ? rect(image) : null,
    viewport: viewport ? { ...rect(viewport), scrollLeft: viewport.scrollLeft, scrollTop: viewport.scrollTop } : null,
    draft: draft ? rect(draft) : null,
    boxes: [...document.querySelectorAll('[data-item-id]')].map((el) => ({ id: Number(el.dataset.itemId), rect: rect(el) })),
  };
}

/**
 * Waits until the page image has loaded and the stage stops moving (the fit-to-size layout
 * settles after a zoom or a scrollbar appearing): two measures in a row alike, 100 ms apart.
 * `measure` returns measureStage()'s result. Throws after `ms` with what it last saw.
 */
export async function settledStage(measure, what, ms = 10_000) {
  const deadline = Date.now() + ms;
  let last = null;
  for (;;) {
    const now = await measure();
    if (now.loaded && last !== null && JSON.stringify(now) === JSON.stringify(last)) return now;
    if (Date.now() > deadline) throw new Error(`${what}: the page image did not load and settle within ${ms} ms (last seen: ${JSON.stringify(now)})`);
    last = now;
    await new Promise((r) => setTimeout(r, 100));
  }
}
