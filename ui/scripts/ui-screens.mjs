// Every page of the built UI (ui/dist) in headless Chromium at 1280×800 and 1920×1080, with the
// Tauri IPC mocked in the page only (window.__TAURI_INTERNALS__ set by an init script; the app
// itself has no mock). Checks a few things per page and saves screenshots to artifacts/ui/. On
// the crop page every answer box must sit where its bbox says (loaded, drawn, moved; two zooms).
// Run: npm run test:ui (builds first).
import { createReadStream, existsSync, mkdirSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { compareBoxes, compareRect, measureStage, rectOfBbox, rectOfDrag, settledStage } from './box-geometry.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.resolve(here, '..', 'dist');
const out = path.resolve(here, '..', '..', 'artifacts', 'ui');
mkdirSync(out, { recursive: true });
if (!existsSync(path.join(dist, 'index.html'))) {
  console.error('ui/dist is missing: run `npm run build` first');
  process.exit(1);
}

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' };
const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  let file = path.join(dist, decodeURIComponent(url.pathname));
  if (!file.startsWith(dist) || !existsSync(file) || statSync(file).isDirectory()) file = path.join(dist, 'index.html');
  res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
  createReadStream(file).pipe(res);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${server.address().port}/`;

// ---- The mocked core, installed before the app's scripts run. `scenario` picks the queue state.
function installMock(scenario) {
  const now = Date.now();
  const exam = {
    id: 1,
    name: 'Year 9 Physics — Forces & Motion mid-term',
    questions: [
      {
        id: 11, label: 'Q1', prompt: 'State Newton’s second law.', max_points: 2, rubric: 'Accept a = F/m.', reference_answer: 'The net force on a body equals its mass times its acceleration: F = ma.', scoring: 'positive',
        items: [{ id: 1101, text: 'F = ma, or the law in words', points: 1 }, { id: 1102, text: 'names force, mass and acceleration', points: 1 }, { id: 1103, text: 'wrong or missing units', points: -0.5 }],
      },
      { id: 12, label: 'Q2', prompt: 'Define momentum.', max_points: 3, rubric: '', reference_answer: '', scoring: 'positive', items: [] },
      { id: 13, label: 'Q3', prompt: 'A 2 kg cart accelerates at 3 m/s². Find the force.', max_points: 4, rubric: '', reference_answer: '', scoring: 'positive', items: [] },
    ],
  };
  const exam2 = { id: 2, name: 'Chemistry quiz', questions: [{ id: 21, label: 'Q1', prompt: 'pH of water?', max_points: 1, rubric: '', reference_answer: '', scoring: 'positive', items: [] }] };
  const names = ['Ada Lovelace', 'Alan Turing', '<b>Grace</b> Hopper', 'Katherine Johnson', 'Édouard Lucas', 'Mary Somerville-Fairfax-Worthington the Third', 'Ibn al-Haytham', 'Emmy Noether'];
  const roster = scenario === 'many' ? Array.from({ length: 400 }, (_, k) => names[k % names.length] + (k >= names.length ? ` ${Math.floor(k / names.length) + 1}` : '')) : names;
  const submissions = roster.map((student, k) => ({ id: k + 1, exam_id: 1, student, file_name: `scan_${String(k + 1).padStart(3, '0')}.pdf`, pages: 2, items: 3, done: k < 3 ? 3 : k < 6 ? 1 : 0, first_page_id: 501, first_page_rev: 'r1' }));
  const states = ['done', 'grading', 'queued', 'failed', 'retrying', 'cancelled'];
  const items = [];
  let id = 1;
  for (const s of submissions) {
    for (const q of exam.questions) {
      const state = s.id <= 3 ? 'done' : states[(id + s.id) % states.length];
      items.push({
        item_id: id, submission_id: s.id, page_number: q.id === 13 ? 2 : 1, question_label: q.label,
        bbox: q.id === 11 ? { x: 0.08, y: 0.12, w: 0.84, h: 0.2 } : q.id === 12 ? { x: 0.08, y: 0.45, w: 0.84, h: 0.25 } : { x: 0.08, y: 0.1, w: 0.84, h: 0.3 },
        job_id: 100 + id, state, score: state === 'done' ? Math.min(q.max_points, 1.5) : null, max_points: q.max_points,
        feedback: state === 'done' ? 'Correct relationship, but the units are missing in the final line.' : null, teacher_score: s.id === 2 && q.id === 11 ? 1 : null, removed: false,
        error: state === 'failed' ? 'Gemini could not read the handwriting (the crop may be blank).' : state === 'retrying' ? 'Gemini timed out; trying again.' : null,
      });
      id += 1;
    }
  }
  const counts = { queued: 0, running: 0, succeeded: 0, dead: 0, cancelled: 0 };
  for (const i of items) counts[{ queued: 'queued', retrying: 'queued', grading: 'running', done: 'succeeded', failed: 'dead', cancelled: 'cancelled' }[i.state]] += 1;
  const progress = [
    { exam_id: null, total: 27, done: 13, failed: 3, queued: 9, running: 2, per_minute: 4.2, percent: 59.3, eta_seconds: 157 },
    { exam_id: 1, total: 24, done: 12, failed: 3, queued: 7, running: 2, per_minute: 3.8, percent: 62.5, eta_seconds: 142 },
    { exam_id: 2, total: 3, done: 1, failed: 0, queued: 2, running: 0, per_minute: 0.4, percent: 33.3, eta_seconds: 300 },
  ];
  const queues = {
    normal: { progress, pauses: [], provider: { hold: null, next_try_at_ms: null }, halted: null },
    many: { progress, pauses: [], provider: { hold: null, next_try_at_ms: null }, halted: null },
    blocked: {
      progress,
      pauses: [
        { scope: { scope: 'all' }, reason: 'daily quota reached', until_ms: now + 3 * 3600_000 },
        { scope: { scope: 'exam', exam_id: 2 }, reason: 'paused by the teacher', until_ms: null },
      ],
      provider: { hold: 'unavailable', next_try_at_ms: now + 4 * 60_000 },
      halted: 'the Gemini API key was rejected (403). Check the key in Settings.',
    },
  };
  const review = submissions.map((s, k) => ({
    item_id: 1 + k * 3, submission_id: s.id, student: s.student, question_label: 'Q1', state: 'done', max_points: 2,
    ai_score: k % 3 === 0 ? 1 : 2, feedback: k === 2 ? '<i>States F = ma</i> but does not say what a is.' : 'Clear statement of the law with symbols defined.',
    transcription: k === 1 ? 'The net force on a body equals its mass times its acceleration, F = m a,\nwhere a is in m/s².' : 'F = ma', confidence: k === 0 ? 0.42 : 0.93,
    needs_review: k === 0 || k === 4, review_reason: k === 0 ? 'Handwriting partly illegible near the end.' : k === 4 ? 'Answer continues outside the box.' : null,
    teacher_score: k === 1 ? 1.5 : null, teacher_note: null, score: k === 1 ? 1.5 : k % 3 === 0 ? 1 : 2,
    history: k === 1 ? [{ by: 'ai', score: 2, note: null, at_ms: now - 60000 }, { by: 'teacher', score: 1.5, note: 'units missing', at_ms: now - 1000 }] : [{ by: 'ai', score: k % 3 === 0 ? 1 : 2, note: null, at_ms: now - 60000 }],
    outside_writing: k === 4 ? 'writing outside the boxes on page 1' : null,
    outside: k === 4 ? [{ page_id: 505, rev: 'r1', template_page: 1, index: 0, page_box: { x: 0.07, y: 0.15, w: 0.5, h: 0.04 } }] : [],
    // The shape of src/api/generated.ts's ReviewRow: routes, rubric items, second opinions.
    route: k === 0 || k === 4 ? 'flagged' : k === 1 ? 'teacher' : k === 3 ? 'auto_accepted' : 'waiting',
    accepted: k === 1 || k === 3,
    model_transcription: k === 1 ? 'The net force on a body equals its mass times its acceleration, F = m a,\nwhere a is in m/s.' : 'F = ma',
    transcription_edited: k === 1,
    applied: k % 3 === 0 ? [{ item_id: 1101, evidence: 'F = ma' }] : [{ item_id: 1101, evidence: 'F = ma' }, { item_id: 1102, evidence: 'force, mass, acceleration' }],
    teacher_items: k === 1 ? [1101, 1102, 1103] : null,
    decision: k === 1 ? 'items' : null,
    core_flag: null,
    second_opinion: k === 0 ? { score: 2, items: [1101, 1102], transcription: 'F = ma', feedback: 'States the law with symbols.', model: 'gemini-2.5-flash' } : null,
  }));
  for (const r of review) if (r.route === 'auto_accepted') { r.needs_review = false; r.review_reason = 'confidence 93% ≥ 80%, and the AI gave your score on 11 of 12 reviewed answers (92%)'; }
  for (const r of review) if (r.route === 'waiting' && r.review_reason === null) r.review_reason = 'auto-accept is off for this exam';
  review.sort((a, b) => Number(b.route === 'flagged') - Number(a.route === 'flagged'));
  const routing = { auto_accept: true, confidence_threshold: 0.8, agreement_target: 0.9, double_grading: false };
  const stored = { provider: 'gemini', model: 'gemini-2.5-flash', base_url: 'https://generativelanguage.googleapis.com', base_url_confirmed_host: null, openai_base_url: 'http://127.0.0.1:11434/v1', openai_base_url_confirmed_host: null, openai_model: 'qwen2.5vl:7b', concurrency: 4, requests_per_minute: 60, requests_per_day: 0, request_timeout_secs: 120, thinking_budget: 1024, thinking_level: 'low', media_resolution: 'high' };
  const settings = {
    settings: stored,
    effective: stored,
    prices: [
      { model_prefix: 'gemini-2.5-flash', input_per_mtok: 0.3, output_per_mtok: 2.5 },
      { model_prefix: 'gemini-2.5-pro', input_per_mtok: 1.25, output_per_mtok: 10 },
    ],
    api_key: '••••••••3f9a', api_key_source: 'keyring',
  };

  const svg = (w, h, body) => `data:image/svg+xml;utf8,${encodeURIComponent(`<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}"><rect width="100%" height="100%" fill="#fdfdf8"/>${body}</svg>`)}`;
  const hand = (x, y, t, size = 28) => `<text x="${x}" y="${y}" font-family="Humor Sans, Comic Sans MS, cursive" font-size="${size}" fill="#1a237e">${t}</text>`;
  const calls = [];
  const callbacks = new Map();
  let nextCb = 1;
  const listeners = new Map(); // callback id -> event name
  const send = (event, payload) => { for (const [n, cb] of callbacks) if (listeners.get(n) === event) cb({ event, id: 0, payload }); };
  // New and re-cropped boxes join `items` and are announced as the core does, one `item`
  // event each, in seq order after the snapshot's.
  let seq = 1;
  const announce = (item) => { seq += 1; send('gradedesk:event', { seq, type: 'item', item }); };
  const addItem = (submissionId, pageNumber, label, bbox) => {
    const max = exam.questions.find((q) => q.label === label)?.max_points ?? 1;
    const item = { item_id: id, submission_id: submissionId, page_number: pageNumber, question_label: label, bbox, job_id: 100 + id, state: 'queued', score: null, max_points: max, feedback: null, teacher_score: null, error: null };
    id += 1;
    items.push(item);
    announce(item);
    return { item_id: item.item_id, job_id: item.job_id };
  };
  // What exam_stats answers (the shape of src/api/generated.ts's ExamStats).
  const bins = (counts, step) => counts.map((count, k) => ({ lo: k * step - step / 2, hi: k * step + step / 2, count }));
  const agreement = (n, exact, within_one, mae, qwk, confusion) => ({ n, exact, within_one, mae, qwk, levels: confusion.map((_, k) => k), confusion });
  window.__stats = {
    questions: [
      { label: 'Q1', max_points: 2, n: 38, mean: 1.42, median: 1.5, sd: 0.61, facility: 0.71, discrimination: 0.46, low_discrimination: false, blank_share: 0.05,
        histogram: bins([4, 14, 20], 1), agreement: agreement(24, 0.83, 1, 0.17, 0.86, [[5, 1, 0], [1, 8, 1], [0, 1, 7]]) },
      { label: 'Q2', max_points: 3, n: 37, mean: 1.81, median: 2, sd: 0.9, facility: 0.6, discrimination: 0.12, low_discrimination: true, blank_share: 0.1,
        histogram: bins([5, 9, 14, 9], 1), agreement: agreement(20, 0.55, 0.9, 0.55, 0.58, [[2, 2, 0, 0], [1, 3, 2, 0], [0, 2, 4, 1], [0, 0, 1, 2]]) },
      { label: 'Q3', max_points: 4, n: 36, mean: 2.6, median: 3, sd: 1.1, facility: 0.65, discrimination: 0.52, low_discrimination: false, blank_share: 0,
        histogram: bins([2, 4, 9, 13, 8], 1), agreement: agreement(0, null, null, null, null, [[0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0]]) },
    ],
    exam: { n: 35, max_points: 9, mean: 5.83, sd: 1.94, alpha: 0.71,
      histogram: [0, 1, 2, 3, 5, 7, 8, 5, 3, 1].map((count, k) => ({ lo: k * 0.9, hi: (k + 1) * 0.9, count })) },
  };
  // The Template page: a 2-page template with regions; a class of four, one page missing,
  // one upside down, one page nobody got.
  const regions = [
    { region_id: 1, page: 1, kind: 'answer', question_label: 'Q1', question_id: 11, position: 0, bbox: { x: 0.06, y: 0.14, w: 0.88, h: 0.22 } },
    { region_id: 2, page: 1, kind: 'answer', question_label: 'Q2', question_id: 12, position: 0, bbox: { x: 0.06, y: 0.45, w: 0.88, h: 0.3 } },
    { region_id: 3, page: 1, kind: 'name', question_label: null, question_id: null, position: 0, bbox: { x: 0.06, y: 0.04, w: 0.5, h: 0.06 } },
  ];
  let nextRegion = 4;
  const splitPage = (id, slot, file, page, extra = {}) => ({ page_id: id, template_page: slot, source: { file, page }, rev: 'r1', width: 2480, height: 3508, quality: 0.97, residual_px: 0.6, flagged: false, upside_down: false, outside_ink: [], ...extra });
  const flag = (kind, page, message) => ({ kind, page, message });
  const split = {
    template_pages: 2,
    held: true,
    students: [
      { submission_id: 1, student: 'Student 1', pages: [splitPage(601, 1, 'class.pdf', 1), splitPage(602, 2, 'class.pdf', 2)], flags: [] },
      { submission_id: 2, student: 'Student 2', pages: [splitPage(603, 1, 'class.pdf', 4), splitPage(604, 2, 'class.pdf', 3)], flags: [flag('out_of_order', null, 'the pages were scanned out of order (they are shown in the template’s order)')] },
      { submission_id: 3, student: 'Student 3', pages: [splitPage(605, 1, 'class.pdf', 5), splitPage(606, 2, 'class.pdf', 6, { upside_down: true })], flags: [flag('upside_down', 2, 'page 2 was scanned upside down (it is read turned back)')] },
      { submission_id: 4, student: 'Student 4', pages: [splitPage(607, 1, 'class.pdf', 8, { quality: 0.41, residual_px: 4.2, flagged: true })], flags: [flag('missing_page', 2, 'page 2 is missing'), flag('check_alignment', 1, 'check the alignment of page 1')] },
    ],
    unassigned: [{ unassigned_id: 1, source: { file: 'class.pdf', page: 7 }, reason: 'blank (next to no ink): a scanner’s empty back side?', readable: true }],
  };
  // The Names tab: a roster of five, four scripts: one matched automatically, one confirmed,
  // one with a suggestion (two Maries), one whose name box is blank.
  const person = (id, first, last, submission_id = null) => ({ id, roster_id: `2026000${id}`, name: `${last}, ${first}`, last_name: last, first_name: first, student_id: `2026000${id}`, lms_id: `${100 + id}`, login: null, email: `${first.toLowerCase()}.${last.toLowerCase()}@school.example`, section: null, submission_id });
  const rosterEntries = [person(1, 'Éloïse', 'Núñez', 1), person(2, 'Marie', 'Curie', 2), person(3, 'Marie', 'Dubois'), person(4, 'Alan', 'Turing'), person(5, 'Ada', 'Lovelace')];
  const matchRow = (submission_id, extra) => ({ submission_id, source: `class.pdf p${submission_id * 2 - 1}`, read_name: null, read_id: null, student: null, roster_id: null, confidence: null, status: 'unmatched', no_student: false, suggestion: null, read_state: 'read', read_error: null, name_crop: `/data/names/${submission_id}-a.png`, id_crop: `/data/names/${submission_id}-id.png`, ...extra });
  const matchRowsData = [
    matchRow(1, { read_name: 'Eloise Nunez', read_id: '20260001', student: 'Núñez, Éloïse', roster_id: '20260001', confidence: 0.98, status: 'auto' }),
    matchRow(2, { read_name: 'Curie, M.', read_id: '20260002', student: 'Curie, Marie', roster_id: '20260002', confidence: 0.96, status: 'confirmed' }),
    matchRow(3, { read_name: 'Marie', read_id: null, confidence: 0.64, suggestion: { entry_id: 3, roster_id: '20260003', student: 'Dubois, Marie' } }),
    matchRow(4, { read_name: null, read_id: null, name_crop: '/data/names/4-a.png' }),
  ];
  const nameWritten = { 1: 'Eloise Nunez', 2: 'Curie, M.', 3: 'Marie', 4: '' };
  window.__mock = {
    calls,
    items,
    review,
    regions,
    split,
    matchRowsData,
    emit: (payload) => send('gradedesk:event', payload),
    // The webview's file drag-and-drop, as Tauri reports it.
    drag: (type, paths = []) => send(`tauri://drag-${type}`, { paths, position: { x: 400, y: 300 } }),
  };
  const reply = (cmd, args) => {
    switch (cmd) {
      case 'desk_snapshot': return { seq, exams: [exam, exam2], submissions, items, counts, queue: queues[scenario] };
      case 'snapshot': return { seq, exams: [exam, exam2], submissions, items, counts };
      case 'get_submission': {
        const s = submissions.find((x) => x.id === args.submissionId);
        return { submission: s, pages: [{ id: 501, number: 1, width: 1240, height: 1754, rev: 'r1' }, { id: 502, number: 2, width: 1240, height: 1754, rev: 'r1' }], items: items.filter((i) => i.submission_id === s.id) };
      }
      case 'review_items': return review.map((r) => ({ ...r, question_label: args.questionLabel }));
      case 'exam_stats': return window.__stats;
      case 'export_folder': return '/home/teacher/Downloads/GradeDesk';
      case 'export_gradebook': return { rows: submissions.length, path: args.path };
      case 'export_feedback': return { students: submissions.length, files: submissions.map((x, k) => `${args.dir}/${String(k + 1).padStart(3, '0')}.pdf`), class_pdf: `${args.dir}/class.pdf` };
      case 'override_score': return { item_id: args.itemId, score: args.score, note: null, created_at: Date.now() };
      case 'set_answer_items': return { item_id: args.itemId, score: args.rubricItemIds.length, note: null, created_at: Date.now() };
      case 'accept_answer': return { item_id: args.itemId, score: 2, note: null, created_at: Date.now() };
      case 'set_transcription': return null;
      case 'review_routing': {
        const flagged = review.filter((r) => r.route === 'flagged').length;
        const auto = review.filter((r) => r.route === 'auto_accepted').length;
        const teacher = review.filter((r) => r.route === 'teacher').length;
        return { question_label: args.questionLabel, policy: routing, reviewed: 12, exact: 11, min_reviewed: 10, flagged, waiting: review.length - flagged - auto - teacher, auto_accepted: auto, by_teacher: teacher };
      }
      case 'set_review_policy': Object.assign(routing, args.policy); return routing;
      case 'regrade_question': return review.length;
      case 'get_settings': case 'save_settings': return settings;
      case 'set_api_key': return { ...settings, api_key: '••••••••' + String(args.key).slice(-4) };
      case 'test_api_key': return 'the API key works with gemini-2.5-flash';
      // The shape of src/api/generated.ts's Estimate (BatchEstimate and BatchActual).
      case 'estimate': return {
        to_grade: { model: 'gemini-2.5-flash', answers: 11, unreadable: 0, text_tokens: 4400, image_tokens: 9600, prompt_tokens: 14000, expected_output_tokens: 5000, expected_thinking_tokens: 11264, image_tokens_unprepared: 28416, bytes_on_disk: 6_100_000, bytes_sent: 1_900_000, expected_cost_usd: 0.017, max_cost_usd: 0.041, double_graded: 0, double_grading_cost_usd: 0 },
        graded: { graded: 13, prompt_tokens: 16500, output_tokens: 5900, thoughts_tokens: 12000, cost_usd: 0.021 },
      };
      // The shape of src/api/generated.ts's BatchOverview: one exam graded later, one batch running.
      case 'batch_overview': return {
        exams: [{ exam_id: exam.id, mode: 'later', waiting: 4, in_batch: 6 }, { exam_id: exam2.id, mode: 'now', waiting: 0, in_batch: 0 }],
        batches: [{ batch: 'batches/abc123', exam_id: exam.id, state: 'running', answers: 6, succeeded: 0, failed: 0, created_at: now - 3_900_000, ended_at: null, results_stored: false, cost_estimated: 0.0042, cost_actual: null, error: null }],
      };
      case 'pause_grading': case 'cancel_item': case 'prioritize_item': return null;
      case 'resume_grading': return true;
      case 'dead_jobs': return items.filter((i) => i.state === 'failed').map((i) => ({ job_id: i.job_id, kind: 'GRADE_ITEM', item_id: i.item_id, submission_id: i.submission_id, attempts: 3, error: i.error, finished_at: now }));
      case 'retry_failed': return 1;
      case 'create_item': return addItem(args.submissionId, args.pageNumber, args.questionLabel, args.bbox);
      case 'recrop_item': {
        const k = items.findIndex((i) => i.item_id === args.itemId);
        const [old] = items.splice(k, 1);
        announce({ ...old, removed: true });
        return addItem(old.submission_id, old.page_number, args.questionLabel, args.bbox);
      }
      case 'plugin:event|listen':
        listeners.set(args.handler, args.event);
        setTimeout(() => window.__mock.emit({ seq: 0, type: 'heartbeat', at_ms: Date.now() }), 20);
        return args.handler;
      case 'update_exam': case 'delete_question': return null;
      case 'update_question': {
        const added = args.question.items.filter((i) => i.id === undefined).length;
        const question = { id: args.questionId, ...args.question, items: args.question.items.map((i, k) => ({ ...i, id: i.id ?? 1200 + k })) };
        return {
          question,
          change: { added, removed: 0, repointed: 1, rescored: [1, 4, 7], graded_before: added > 0 ? 8 : 0 },
          regrade: added > 0 ? { question_label: question.label, answers: 8, estimated_usd: 0.0024, double_grading: false } : null,
        };
      }
      case 'add_questions': return args.questions.map((q, k) => ({ id: 90 + k, ...q }));
      case 'import_paths': return { imported: [{ submission_id: 99, file: 'scan_009.pdf', pages: 2 }], skipped: [{ file: 'notes.txt', reason: 'not a scan (GradeDesk imports JPEG, PNG, TIFF, WebP, HEIC and PDF files)' }], failed: [] };
      case 'plugin:notification|notify': return null;
      case 'template_view': return { pages: [{ id: 701, number: 1, width: 1240, height: 1754 }, { id: 702, number: 2, width: 1240, height: 1754 }], regions, students: 4 };
      case 'add_region': {
        const q = exam.questions.find((x) => x.label === args.questionLabel);
        regions.push({ region_id: nextRegion, page: args.page, kind: args.kind, question_label: q?.label ?? null, question_id: q?.id ?? null, position: regions.filter((r) => r.question_id === q?.id && q).length, bbox: args.bbox });
        nextRegion += 1;
        return nextRegion - 1;
      }
      case 'region_impact': return { answers: 4, graded: 0 };
      case 'move_region': { const r = regions.find((x) => x.region_id === args.regionId); if (r) r.bbox = args.bbox; return 4; }
      case 'delete_region': regions.splice(regions.findIndex((x) => x.region_id === args.regionId), 1); return 4;
      case 'roster': return rosterEntries;
      case 'match_rows': return matchRowsData;
      case 'set_match': {
        const row = matchRowsData.find((r) => r.submission_id === args.submissionId);
        for (const e of rosterEntries) if (e.submission_id === row.submission_id) e.submission_id = null;
        const e = rosterEntries.find((x) => x.roster_id === args.rosterId);
        if (e) e.submission_id = row.submission_id;
        Object.assign(row, { student: e?.name ?? null, roster_id: e?.roster_id ?? null, status: e ? 'confirmed' : 'unmatched', no_student: !e, suggestion: null });
        return row;
      }
      case 'import_roster': return { students: 5, skipped: [{ line: 2, reason: 'the “Points Possible” row is no student' }] };
      case 'split_review': return split;
      case 'confirm_split': split.held = false; return null;
      case 'shift_alignment': return 2;
      case 'class_items': return [{ item_id: 900, submission_id: 4, question_label: 'Q1', source: { file: 'class.pdf', page: 8 }, source_size: [2480, 3508], source_quad: [[160, 480], [2330, 500], [2320, 1270], [150, 1250]], alignment: { quality: 0.41, residual_px: 4.2, flagged: true } }];
      case 'plugin:event|unlisten': return null;
      default: throw { code: 'unknown', message: `the mock has no ${cmd}` };
    }
  };
  window.__TAURI_EVENT_PLUGIN_INTERNALS__ = { unregisterListener: () => {} };
  window.__TAURI_INTERNALS__ = {
    metadata: { currentWindow: { label: 'main' }, currentWebview: { windowLabel: 'main', label: 'main' } },
    transformCallback: (cb) => { const n = nextCb++; callbacks.set(n, cb); return n; },
    unregisterCallback: (n) => callbacks.delete(n),
    convertFileSrc: (p) => {
      const [kind, idStr] = p.split('/');
      const n = Number(idStr);
      if (kind === 'name') return svg(620, 105, hand(20, 70, nameWritten[n] ?? '', 44));
      if (kind === 'idbox') return svg(360, 90, hand(20, 60, matchRowsData.find((r) => r.submission_id === n)?.read_id ?? '', 40));
      if (kind === 'template') return svg(1240, 1754, hand(100, 100, `Physics mid-term — page ${n - 700}`, 40) + '<rect x="74" y="245" width="1091" height="386" fill="none" stroke="#888" stroke-width="3"/><rect x="74" y="789" width="1091" height="526" fill="none" stroke="#888" stroke-width="3"/>');
      if (kind === 'page' || kind === 'thumb' || kind === 'loose') return svg(1240, 1754, hand(100, 160, `Name: student scan page ${n - 500}`, 40) + hand(100, 300, '1) F = m × a  (force = mass × accel.)') + hand(100, 860, '2) p = m v, measured in kg·m/s') + '<line x1="60" y1="120" x2="1180" y2="120" stroke="#ccc"/>');
      return svg(720, 200, hand(24, 70, n % 2 ? 'F = m a   so force = mass × acceleration' : 'p = m × v  (kg m/s)') + hand(24, 140, n % 3 ? 'a is in m/s²' : '…', 24));
    },
    invoke: async (cmd, args) => {
      calls.push({ cmd, args });
      await new Promise((r) => setTimeout(r, 5));
      // A copy, as the real IPC hands over: the app must not share the mock's arrays.
      return structuredClone(reply(cmd, args ?? {}));
    },
  };
  // A heartbeat now and then so the badge says Live.
  setInterval(() => window.__mock.emit({ seq: 0, type: 'heartbeat', at_ms: Date.now() }), 1000);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
});
const failures = [];
const check = (cond, what) => { if (!cond) failures.push(what); };

async function open(viewport, scenario) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.addInitScript(installMock, scenario);
  // As in the real window (tauri.conf.json's freezePrototype): a library that assigns onto a
  // frozen inherited name breaks the page here too (frozen-prototype.ts).
  await page.addInitScript(() => Object.freeze(Object.prototype));
  await page.goto(base);
  await page.getByTestId('submission-list').waitFor();
  return { page, context, errors };
}

/**
 * Waits until what a screenshot would show has stopped changing: fonts and the images in view
 * loaded, no animation or transition running (looping spinners aside).
 */
async function settled(page, what) {
  try {
    await page.waitForFunction(() => {
      const inView = (el) => {
        const r = el.getBoundingClientRect();
        return r.width > 0 && r.bottom > 0 && r.right > 0 && r.top < innerHeight && r.left < innerWidth;
      };
      return (
        document.fonts.status === 'loaded' &&
        [...document.images].every((i) => !inView(i) || (i.complete && i.naturalWidth > 0)) &&
        document.getAnimations().every((a) => a.playState !== 'running' || a.effect?.getTiming().iterations === Infinity)
      );
    }, null, { timeout: 10_000 });
  } catch {
    throw new Error(`${what}: the page did not settle within 10 s (an image in view still loading, or an animation running)`);
  }
}

async function shot(page, name, size) {
  await settled(page, `${name} at ${size}`);
  const file = path.join(out, `${name}-${size}.png`);
  await page.screenshot({ path: file });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 0, `${name} at ${size}: the page scrolls sideways by ${overflow}px`);
  console.log(`saved ${path.relative(process.cwd(), file)}`);
}

// ---- Geometry: each answer box on screen covers the part of the page image its bbox names
// (within TOLERANCE_PX), for loaded, drawn and moved boxes. `measured` collects the largest
// error per case for the summary.
const measured = [];
const record = (where, { error, problem }) => {
  measured.push({ where, error });
  if (problem) failures.push(problem);
};

/** The settled stage, checked box by box against the mock's stored items on that page. */
async function checkBoxes(page, submissionId, pageNumber, where) {
  const stage = await settledStage(() => page.evaluate(measureStage), where);
  const stored = await page.evaluate(([s, n]) => window.__mock.items.filter((i) => i.submission_id === s && i.page_number === n), [submissionId, pageNumber]);
  const { maxError, problems } = compareBoxes(stage, stored, where);
  measured.push({ where: `${where} (${stored.length} boxes)`, error: maxError });
  failures.push(...problems);
  return stage;
}

/** Scrolls the (zoomed) stage so the middle of `bbox` is in the middle of the viewport. */
async function scrollToBbox(page, bbox) {
  await page.evaluate((b) => {
    const v = document.querySelector('.stage-viewport');
    const img = document.querySelector('[data-testid="page-image"]').getBoundingClientRect();
    const vr = v.getBoundingClientRect();
    v.scrollLeft += img.left + (b.x + b.w / 2) * img.width - (vr.left + vr.width / 2);
    v.scrollTop += img.top + (b.y + b.h / 2) * img.height - (vr.top + vr.height / 2);
  }, bbox);
}

const callsOf = (page, cmd) => page.evaluate((c) => window.__mock.calls.filter((x) => x.cmd === c).map((x) => x.args), cmd);

/** Waits for the next call of `cmd` after the `before` calls seen so far, and returns its args. */
async function nextCall(page, cmd, before, what) {
  const handle = await page.waitForFunction(([c, n]) => window.__mock.calls.filter((x) => x.cmd === c)[n]?.args, [cmd, before], { timeout: 10_000 })
    .catch(() => { throw new Error(`${what}: no ${cmd} call within 10 s`); });
  return handle.jsonValue();
}

/** A pointer drag from a to b (client px), in steps so the page sees the moves. */
async function drag(page, a, b) {
  await page.mouse.move(a.x, a.y);
  await page.mouse.down();
  await page.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2, { steps: 4 });
  await page.mouse.move(b.x, b.y, { steps: 4 });
  await page.mouse.up();
}

/** Draws a box over `target` (fractions of the page) and grades it: the draft, the bbox sent and the created box must all match the drag. */
async function drawBox(page, submissionId, target, where) {
  await scrollToBbox(page, target);
  const { image } = await settledStage(() => page.evaluate(measureStage), where);
  const r = rectOfBbox(target, image);
  const a = { x: r.left, y: r.top };
  const b = { x: r.left + r.width, y: r.top + r.height };
  const dragged = rectOfDrag(a, b);
  await drag(page, a, b);
  await page.getByTestId('crop-rect').waitFor({ timeout: 5000 })
    .catch(() => { throw new Error(`${where}: the drag left no drawn box (did it start on an answer box?)`); });
  const { draft } = await page.evaluate(measureStage);
  record(`${where}: the drawn draft`, compareRect(`${where}: the drawn draft`, draft, dragged));
  const before = (await callsOf(page, 'create_item')).length;
  await page.getByTestId('grade-button').click();
  const sent = await nextCall(page, 'create_item', before, where);
  record(`${where}: the bbox sent to create_item`, compareRect(`${where}: the bbox sent to create_item`, rectOfBbox(sent.bbox, image), dragged));
  await page.getByTestId('crop-rect').waitFor({ state: 'detached' });
  const created = await page.evaluate(() => window.__mock.items.at(-1).item_id);
  await page.locator(`[data-item-id="${created}"]`).waitFor();
  await checkBoxes(page, submissionId, 1, `${where}, after drawing`);
}

/** Drags the `label` box by `delta` px: the bbox sent to recrop_item must be the old one moved by the drag, and the new box must be drawn where it is stored. */
async function moveBox(page, submissionId, label, delta, where) {
  const item = await page.evaluate(([s, l]) => window.__mock.items.findLast((i) => i.submission_id === s && i.page_number === 1 && i.question_label === l), [submissionId, label]);
  await scrollToBbox(page, item.bbox);
  const { image, boxes } = await settledStage(() => page.evaluate(measureStage), where);
  const shown = boxes.find((x) => x.id === item.item_id).rect;
  const a = { x: shown.left + shown.width / 2, y: shown.top + shown.height / 2 };
  const before = (await callsOf(page, 'recrop_item')).length;
  await drag(page, a, { x: a.x + delta.x, y: a.y + delta.y });
  const sent = await nextCall(page, 'recrop_item', before, where);
  const old = rectOfBbox(item.bbox, image);
  const want = { ...old, left: old.left + delta.x, top: old.top + delta.y };
  record(`${where}: the bbox sent to recrop_item`, compareRect(`${where}: the bbox sent to recrop_item (the ${label} box moved by ${delta.x}, ${delta.y} px)`, rectOfBbox(sent.bbox, image), want));
  const moved = await page.evaluate(() => window.__mock.items.at(-1).item_id);
  await page.locator(`[data-item-id="${moved}"]`).waitFor();
  await page.locator(`[data-item-id="${item.item_id}"]`).waitFor({ state: 'detached' });
  await checkBoxes(page, submissionId, 1, `${where}, after moving ${label}`);
}

/** The crop page of one scan at Fit and at 150%: loaded boxes on both pages, a drawn box and a moved box at each zoom. */
async function geometry(page, size) {
  const submissionId = 5;
  await page.getByTestId(`open-submission-${submissionId}`).click();
  await page.locator('[data-item-id]').first().waitFor();
  const zooms = [
    { name: 'Fit', draw: { x: 0.1, y: 0.75, w: 0.5, h: 0.08 }, move: ['Q2', { x: 24, y: 30 }] },
    { name: '150%', draw: { x: 0.3, y: 0.86, w: 0.6, h: 0.1 }, move: ['Q1', { x: -10, y: 14 }] },
  ];
  for (const zoom of zooms) {
    if (zoom.name !== 'Fit') await page.getByRole('button', { name: 'Zoom in' }).click();
    const shownZoom = await page.locator('.zoom-value').textContent();
    if (shownZoom !== zoom.name) throw new Error(`geometry at ${size}: the zoom shows ${shownZoom}, expected ${zoom.name}`);
    const where = `${size}, zoom ${zoom.name}`;
    await checkBoxes(page, submissionId, 1, `${where}, page 1 as loaded`);
    await page.getByTestId('page-next').click();
    await page.locator('[data-testid="page-indicator"]', { hasText: 'Page 2 of 2' }).waitFor();
    await checkBoxes(page, submissionId, 2, `${where}, page 2 as loaded`);
    await page.getByTestId('page-prev').click();
    await page.locator('[data-testid="page-indicator"]', { hasText: 'Page 1 of 2' }).waitFor();
    await drawBox(page, submissionId, zoom.draw, where);
    await moveBox(page, submissionId, zoom.move[0], zoom.move[1], where);
    await shot(page, `crop-geometry-${zoom.name === 'Fit' ? 'fit' : '150'}`, size);
  }
}

for (const viewport of [{ width: 1280, height: 800 }, { width: 1920, height: 1080 }]) {
  const size = `${viewport.width}x${viewport.height}`;

  // Template page: the regions sit where they are stored; a drag adds the next region,
  // where it was dragged; the split review shows every student's pages and flags.
  {
    const { page, context, errors } = await open(viewport, 'normal');
    await page.getByTestId('open-template').click();
    await page.getByTestId('region-list').waitFor();
    const stored = () => page.evaluate(() => window.__mock.regions.filter((r) => r.page === 1).map((r) => ({ item_id: r.region_id, question_label: r.question_label ?? r.kind, bbox: r.bbox })));
    {
      const stage = await settledStage(() => page.evaluate(measureStage), `template at ${size}`);
      const { maxError, problems } = compareBoxes(stage, await stored(), `template at ${size}`);
      measured.push({ where: `template regions at ${size}`, error: maxError });
      failures.push(...problems);
    }
    check((await page.getByTestId('region-target').inputValue()) === 'answer:Q3', 'the next region is the first question without one');
    await shot(page, 'template', size);
    // One drag draws Q3's region, where it was dragged.
    const { image } = await page.evaluate(measureStage);
    const target = { x: 0.06, y: 0.78, w: 0.88, h: 0.16 };
    const r = rectOfBbox(target, image);
    const before = (await callsOf(page, 'add_region')).length;
    await drag(page, { x: r.left, y: r.top }, { x: r.left + r.width, y: r.top + r.height });
    const sent = await nextCall(page, 'add_region', before, `template at ${size}`);
    check(sent.questionLabel === 'Q3' && sent.kind === 'answer' && sent.page === 1, `the drag adds Q3's region (${JSON.stringify(sent)})`);
    record(`template at ${size}: the region sent`, compareRect(`template at ${size}: the region sent`, rectOfBbox(sent.bbox, image), rectOfDrag({ x: r.left, y: r.top }, { x: r.left + r.width, y: r.top + r.height })));
    await page.locator(`[data-item-id="${sent.questionLabel ? 4 : 0}"]`).waitFor();
    {
      const stage = await settledStage(() => page.evaluate(measureStage), `template after a drag at ${size}`);
      const { maxError, problems } = compareBoxes(stage, await stored(), `template after a drag at ${size}`);
      measured.push({ where: `template regions after a drag at ${size}`, error: maxError });
      failures.push(...problems);
    }
    check((await page.getByTestId('region-target').inputValue()) === 'student_id', 'after Q3 the next region is the student ID');
    // The split review.
    await page.getByTestId('tab-class').click();
    await page.getByTestId('split-review').waitFor();
    const text = await page.getByTestId('split-review').innerText();
    check(/4 students, 2 pages each/.test(text), 'split summary');
    check(/page 2 is missing/.test(text) && /upside down/.test(text) && /out of order/.test(text), 'split flags');
    check((await page.getByTestId('slot-4-2').innerText()).includes('missing'), 'the missing page has its cell');
    check((await page.getByTestId('loose-list').innerText()).includes('page 7'), 'the page nobody got is listed');
    await shot(page, 'split-review', size);
    await page.getByTestId('check-607').click();
    await page.getByTestId('alignment-check').waitFor();
    check(/41% of the template/.test(await page.getByTestId('alignment-quality').innerText()), 'alignment quality shown');
    // The mapped region sits on the page where its quad says.
    const quad = await page.evaluate(() => {
      const img = document.querySelector('.alignment-stage img').getBoundingClientRect();
      const poly = document.querySelector('[data-testid="quad-900"] polygon').getBoundingClientRect();
      return { img: { left: img.left, top: img.top, width: img.width, height: img.height }, poly: { left: poly.left, top: poly.top, width: poly.width, height: poly.height } };
    });
    const sx = quad.img.width / 2480;
    const sy = quad.img.height / 3508;
    const expected = { left: quad.img.left + 150.5 * sx, top: quad.img.top + 480.5 * sy, width: (2330 - 150) * sx, height: (1270 - 480) * sy };
    record(`alignment overlay at ${size}`, compareRect(`alignment overlay at ${size}`, quad.poly, expected));
    await shot(page, 'alignment-check', size);
    // Dragging the overlay 40 screen px right sends that shift in page pixels.
    {
      const before = (await callsOf(page, 'shift_alignment')).length;
      const start = { x: quad.poly.left + 50, y: quad.poly.top + 50 };
      await drag(page, start, { x: start.x + 40, y: start.y });
      await page.getByTestId('alignment-save').click();
      const sent = await nextCall(page, 'shift_alignment', before, `alignment at ${size}`);
      const want = 40 / sx;
      check(Math.abs(sent.dx - want) < 2 && Math.abs(sent.dy) < 2 && sent.pageId === 607, `the drag shifts the alignment by ${want.toFixed(1)} page px (sent ${JSON.stringify(sent)})`);
    }
    await page.keyboard.press('Escape');
    await page.getByTestId('alignment-check').waitFor({ state: 'detached' });
    await page.getByTestId('confirm-split').click();
    await page.getByTestId('split-confirmed').waitFor();
    // The Names tab: the script waiting comes first, its name box beside the roster with
    // the suggestion preselected; typing without accents finds; Enter confirms.
    await page.getByTestId('tab-names').click();
    await page.getByTestId('match-detail').waitFor();
    check(/1 script matched automatically · 1 decided by you · 2 waiting for you/.test(await page.getByTestId('match-summary').innerText()), 'the names summary');
    check((await page.getByTestId('read-text').innerText()).includes('“Marie”'), 'the first script waiting is the one read as Marie');
    check((await page.locator('[role="option"][aria-selected="true"]').innerText()).includes('Dubois, Marie'), 'the suggestion is preselected');
    check((await page.getByTestId('absent-students').innerText()).includes('Turing, Alan'), 'absent students are listed');
    check((await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))) === 'roster-search', 'the search has the keyboard');
    // The name box is the script's crop, whole and at its own proportions.
    await page.waitForFunction(() => { const i = document.querySelector('[data-testid="name-crop"]'); return i && i.complete && i.naturalWidth > 0; });
    const crop = await page.evaluate(() => { const i = document.querySelector('[data-testid="name-crop"]'); const r = i.getBoundingClientRect(); const d = document.querySelector('[data-testid="match-detail"]').getBoundingClientRect(); const cs = getComputedStyle(i); const bx = parseFloat(cs.borderLeftWidth) + parseFloat(cs.borderRightWidth); const by = parseFloat(cs.borderTopWidth) + parseFloat(cs.borderBottomWidth); return { w: r.width - bx, h: r.height - by, nw: i.naturalWidth, nh: i.naturalHeight, inside: r.left >= d.left && r.right <= d.right + 0.5 && r.top >= d.top, src: i.getAttribute('src') }; });
    check(crop.inside && crop.w > 200 && Math.abs(crop.w / crop.h - crop.nw / crop.nh) < 0.02, `the name crop shows whole inside its card at its aspect (${JSON.stringify(crop)})`);
    await shot(page, 'names', size);
    await page.keyboard.type('lovel');
    check((await page.locator('[role="option"]').count()) === 1, 'the search narrows the roster');
    await page.keyboard.press('Backspace');
    await page.keyboard.press('Backspace');
    await page.keyboard.press('Backspace');
    await page.keyboard.press('Backspace');
    await page.keyboard.press('Backspace');
    await page.keyboard.type('dubo');
    let matchCalls = (await callsOf(page, 'set_match')).length;
    await page.keyboard.press('Enter');
    const matched = await nextCall(page, 'set_match', matchCalls, 'confirm a match');
    check(matched.submissionId === 3 && matched.rosterId === '20260003', `Enter confirms the suggestion (${JSON.stringify(matched)})`);
    // The next script waiting is the blank one.
    await page.waitForFunction(() => document.querySelector('[data-testid="read-text"]')?.textContent.includes('blank'));
    await shot(page, 'names-blank', size);
    matchCalls = (await callsOf(page, 'set_match')).length;
    await page.getByTestId('match-none').click();
    const none = await nextCall(page, 'set_match', matchCalls, 'nobody on the roster');
    check(none.submissionId === 4 && none.rosterId === null, `nobody on the roster sends null (${JSON.stringify(none)})`);
    check(errors.length === 0, `console errors (template) at ${size}: ${errors.join(' | ')}`);
    await context.close();
  }

  // Exams page: progress per exam and overall.
  {
    const { page, context, errors } = await open(viewport, 'normal');
    await page.getByTestId('progress-panel').waitFor();
    check((await page.getByTestId('progress-overall-percent').textContent()) === '59%', 'overall percent');
    check((await page.getByTestId('progress-overall-done').textContent()) === '13 / 27', 'overall counts');
    check((await page.locator('b').count()) === 0, 'student names are rendered as text');
    // Each scan shows its first page's thumbnail, loaded (not a broken image).
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid^="submission-thumb-"]')].some((i) => i.complete && i.naturalWidth > 0));
    check((await page.locator('[data-testid^="submission-thumb-"]').count()) > 0, 'submission thumbnails');
    await shot(page, 'exams', size);
    // The exam and question editor, reached with the keyboard.
    await page.getByTestId('edit-exam').focus();
    await page.keyboard.press('Enter');
    await page.getByTestId('exam-editor').waitFor();
    check((await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))) === 'exam-name', 'the editor starts on the exam name');
    check((await page.getByTestId('rubric-total').textContent()) === 'Items add up to 2 of 2 points', 'rubric items with points');
    await page.getByTestId('rubric-points-1').fill('1.5');
    await page.getByTestId('add-rubric-line').click();
    await page.getByTestId('rubric-text-3').fill('draws a free-body diagram');
    await page.getByTestId('rubric-points-3').fill('0.5');
    await page.getByTestId('question-save').click();
    await page.waitForFunction(() =>
      window.__mock.calls.some((c) => c.cmd === 'update_question' && c.args.question.items.some((i) => i.id === 1102 && i.points === 1.5) && c.args.question.items.length === 4),
    );
    // A new item on a graded question: grading it again is offered, with its cost.
    const offer = await page.getByTestId('regrade-offer').textContent();
    check(/8 graded answers/.test(offer) && offer.includes('$0.0024'), `regrade offer: ${offer}`);
    await page.getByText('3 answers re-scored', { exact: false }).waitFor();
    await shot(page, 'exam-editor', size);
    await page.getByTestId('regrade-dismiss').click();
    await page.keyboard.press('Escape');
    await page.getByTestId('exam-editor').waitFor({ state: 'detached' });

    // Files dragged over the window: the drop overlay, then the import report.
    await page.evaluate(() => window.__mock.drag('enter', ['/home/teacher/Scans/10B']));
    await page.getByTestId('drop-overlay').waitFor();
    await shot(page, 'drop-overlay', size);
    await page.evaluate(() => window.__mock.drag('drop', ['/home/teacher/Scans/10B']));
    await page.getByTestId('drop-overlay').waitFor({ state: 'detached' });
    await page.waitForFunction(() => window.__mock.calls.some((c) => c.cmd === 'import_paths' && c.args.paths[0] === '/home/teacher/Scans/10B'));

    await page.getByTestId('pause-all').click();
    await page.waitForFunction(() => window.__mock.calls.some((c) => c.cmd === 'pause_grading'));

    // Crop page with the answer list and its actions.
    await page.getByTestId('open-submission-5').click();
    await page.locator('[data-testid^="item-state-"]').first().waitFor();
    check((await page.locator('[data-testid^="cancel-"]').count()) > 0, 'crop page offers Cancel');
    check((await page.locator('[data-testid^="grade-now-"]').count()) > 0, 'crop page offers Grade now');
    check((await page.locator('[data-testid^="page-thumb-"]').count()) === 2, 'the page strip shows both pages');
    await settledStage(() => page.evaluate(measureStage), `crop page at ${size}`);
    await shot(page, 'crop', size);
    const retry = page.locator('[data-testid^="retry-"]').first();
    if (await retry.count()) {
      await retry.focus();
      await page.keyboard.press('Enter');
      await page.waitForFunction(() => window.__mock.calls.some((c) => c.cmd === 'retry_failed'));
    }

    // Review page: keyboard grading.
    await page.getByTestId('nav-review').click();
    await page.getByTestId('review-list').waitFor();
    await page.locator('[data-testid^="review-row-"]').first().waitFor();
    await page.getByTestId('review-list').focus();
    await page.getByTestId('routing-why').waitFor();
    await shot(page, 'review', size);
    // Q1 has rubric items: they sit beside the crop, the AI's ticked with its evidence, and
    // a number key toggles one (the whole set goes to the core, which adds the points).
    const first = await page.evaluate(() => window.__mock.review[0]);
    const geometry = await page.evaluate((itemId) => {
      const card = document.querySelector(`[data-testid="review-row-${itemId}"]`)?.getBoundingClientRect();
      const crop = document.querySelector(`[data-testid="review-row-${itemId}"] .review-crop`)?.getBoundingClientRect();
      const list = document.querySelector(`[data-testid="review-items-${itemId}"]`)?.getBoundingClientRect();
      return card && crop && list ? { card: [card.top, card.bottom], crop: [crop.right, crop.top], list: [list.left, list.top, list.bottom] } : null;
    }, first.item_id);
    check(
      geometry !== null && geometry.list[0] >= geometry.crop[0] && geometry.list[1] >= geometry.card[0] && geometry.list[2] <= geometry.card[1] + 1,
      `rubric items beside the crop, inside their card: ${JSON.stringify(geometry)}`,
    );
    const ticks = await page.locator(`[data-testid="review-items-${first.item_id}"] [aria-checked="true"]`).count();
    check(ticks === first.applied.length, `the AI's items are ticked (${ticks} of ${first.applied.length})`);
    await page.keyboard.press('3');
    const toggled = await nextCall(page, 'set_answer_items', 0, 'key 3');
    check(JSON.stringify(toggled.rubricItemIds) === JSON.stringify([...first.applied.map((a) => a.item_id), 1103]), `key 3 adds item 3: ${JSON.stringify(toggled)}`);
    await shot(page, 'review-items', size);
    await page.keyboard.press('a');
    const accepted = await nextCall(page, 'accept_answer', 0, 'key a');
    check(accepted.itemId === first.item_id, 'a accepts the selected answer');
    // Q2 has no items: digits type a free score.
    await page.getByTestId('review-question').selectOption('Q2');
    await page.locator('[data-testid^="review-row-"]').first().waitFor();
    await page.getByTestId('review-list').focus();
    await page.keyboard.press('1');
    await page.keyboard.press('.');
    await page.keyboard.press('5');
    await shot(page, 'review-typing', size);
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => window.__mock.calls.some((c) => c.cmd === 'override_score' && c.args.score === 1.5));
    await page.getByTestId('review-question').selectOption('Q1');
    // Anonymous review: no student's name left on the cards.
    const names = await page.locator('.review-student').allInnerTexts();
    await page.getByTestId('review-anonymous').check();
    const hidden = await page.locator('.review-student').allInnerTexts();
    check(hidden.length > 0 && hidden.every((t) => /^Script #\d+$/.test(t)) && !names.some((n) => hidden.includes(n)), `names hidden in review: ${hidden.join(', ')}`);
    await shot(page, 'review-anonymous', size);
    await page.getByTestId('review-anonymous').uncheck();

    // Settings page, when the app has one.
    const settingsNav = page.getByTestId('nav-settings');
    if (await settingsNav.count()) {
      await settingsNav.click();
      await page.getByTestId('settings-model').waitFor();
      await shot(page, 'settings', size);
    }
    // Statistics page: real bars for the mock's counts, the mock's numbers, the flag and
    // the heatmap; then the export menu writes what it says.
    await page.getByTestId('nav-stats').click();
    await page.getByTestId('stats-exam-card').waitFor();
    await page.locator('[data-testid="hist-total"] .recharts-bar-rectangle').first().waitFor();
    const statsView = await page.evaluate(() => {
      const bars = (id) => [...document.querySelectorAll(`[data-testid="${id}"] .recharts-bar-rectangle path`)].map((p) => p.getBoundingClientRect().height);
      const fig = (scope, name) => document.querySelector(`${scope} [data-fig="${name}"]`)?.textContent;
      return {
        total: bars('hist-total'),
        q1: bars('hist-Q1'),
        alpha: fig('[data-testid="stats-exam-card"]', 'alpha'),
        examMean: fig('[data-testid="stats-exam-card"]', 'exam-mean'),
        q1Mean: fig('[data-testid="stats-q-Q1"]', 'mean'),
        q2Qwk: fig('[data-testid="stats-q-Q2"]', 'qwk'),
        q1Exact: fig('[data-testid="stats-q-Q1"]', 'exact'),
        flags: [...document.querySelectorAll('[data-testid^="flag-"]')].map((e) => e.dataset.testid),
        heat: [...document.querySelectorAll('[data-testid="heatmap-Q1"] td')].map((td) => td.textContent),
        heatmaps: document.querySelectorAll('[data-testid^="heatmap-"]').length,
      };
    });
    const mockStats = await page.evaluate(() => window.__stats);
    const nonzero = mockStats.exam.histogram.filter((b) => b.count > 0);
    check(statsView.total.length === nonzero.length, `the total histogram draws ${statsView.total.length} bars for ${nonzero.length} non-empty ranges`);
    // Bar heights are proportional to the counts (2 px).
    const perCount = statsView.total[nonzero.findIndex((b) => b.count === 8)] / 8;
    nonzero.forEach((b, k) => check(Math.abs(statsView.total[k] - b.count * perCount) <= 2, `total bar ${k} is ${statsView.total[k]}px for ${b.count}`));
    check(statsView.q1.length === 3 && statsView.q1[2] > statsView.q1[1] && statsView.q1[1] > statsView.q1[0], `Q1's bars rise with 4, 14, 20: ${statsView.q1}`);
    check(statsView.alpha === '0.71' && statsView.examMean === '5.83', `the exam card shows alpha ${statsView.alpha}, mean ${statsView.examMean}`);
    check(statsView.q1Mean === '1.42' && statsView.q2Qwk === '0.58' && statsView.q1Exact === '83%', `question figures ${statsView.q1Mean} ${statsView.q2Qwk} ${statsView.q1Exact}`);
    check(statsView.flags.join() === 'flag-Q2', `only Q2 is flagged for low discrimination: ${statsView.flags}`);
    check(statsView.heat.join() === '5,1,,1,8,1,,1,7', `Q1's heatmap shows the confusion counts: ${statsView.heat}`);
    check(statsView.heatmaps === 2, 'no heatmap for a question nobody reviewed');
    await shot(page, 'stats', size);
    await page.getByTestId('export-open').click();
    await page.getByTestId('export-format').selectOption('canvas');
    const file = await page.getByTestId('export-file').inputValue();
    check(file === '/home/teacher/Downloads/GradeDesk/Year-9-Physics-Forces-Motion-mid-term-canvas.csv', `the export suggests ${file}`);
    await shot(page, 'stats-export', size);
    let before = (await callsOf(page, 'export_gradebook')).length;
    await page.getByTestId('export-write').click();
    const exported = await nextCall(page, 'export_gradebook', before, 'export gradebook');
    check(exported.format === 'canvas' && exported.path === file && exported.examId === 1, `export_gradebook got ${JSON.stringify(exported)}`);
    before = (await callsOf(page, 'export_feedback')).length;
    await page.getByTestId('export-pdfs').click();
    const pdfs = await nextCall(page, 'export_feedback', before, 'feedback PDFs');
    check(pdfs.dir === '/home/teacher/Downloads/GradeDesk/Year-9-Physics-Forces-Motion-mid-term-feedback', `export_feedback got ${JSON.stringify(pdfs)}`);
    check(errors.length === 0, `console errors at ${size}: ${errors.join(' | ')}`);
    await context.close();
  }

  // Answer boxes on the crop page sit where their bboxes say, at two zoom levels.
  {
    const { page, context, errors } = await open(viewport, 'normal');
    try {
      await geometry(page, size);
    } catch (e) {
      // A box drawn in the wrong place can make a later step fail (a drag lands on it):
      // report that after the mismatches already found, which say why.
      failures.push(`geometry at ${size} stopped: ${e.message.split('\n')[0]}`);
    }
    check(errors.length === 0, `console errors (geometry) at ${size}: ${errors.join(' | ')}`);
    await context.close();
  }

  // A class of 400: the submissions list renders only what is in view, and scrolls.
  {
    const { page, context, errors } = await open(viewport, 'many');
    const rendered = await page.locator('[data-testid^="submission-row-"]').count();
    check(rendered > 5 && rendered < 120, `virtualized list renders ${rendered} of 400 rows`);
    await page.locator('.table-scroll').evaluate((el) => { el.scrollTop = el.scrollHeight; });
    await page.getByTestId('open-submission-400').waitFor();
    await shot(page, 'exams-many', size);
    check(errors.length === 0, `console errors (many) at ${size}: ${errors.join(' | ')}`);
    await context.close();
  }

  // A blocked queue explains itself.
  {
    const { page, context, errors } = await open(viewport, 'blocked');
    const blockers = page.getByTestId('queue-blockers');
    await blockers.waitFor();
    const text = await blockers.textContent();
    check(/Grading has stopped: the Gemini API key was rejected/.test(text), 'halted message');
    check(/Gemini unavailable — next try at/.test(text), 'provider hold message');
    check(/All grading is paused until .*\(daily quota reached\)/.test(text), 'timed pause message');
    check(/Grading of “Chemistry quiz” is paused/.test(text), 'exam pause message');
    await shot(page, 'exams-blocked', size);
    check(errors.length === 0, `console errors (blocked) at ${size}: ${errors.join(' | ')}`);
    await context.close();
  }
}

await browser.close();
server.close();
console.log('box geometry, largest error per case (px):');
for (const m of measured) console.log(`  ${m.error.toFixed(2).padStart(6)}  ${m.where}`);
if (failures.length > 0) {
  console.error(`UI checks failed:\n- ${failures.join('\n- ')}`);
  process.exit(1);
}
console.log('UI checks passed');
