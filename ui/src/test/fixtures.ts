import type {
  DeskSnapshot,
  Event,
  Exam,
  ItemState,
  ItemView,
  LiveSnapshot,
  MatchRow,
  Progress,
  QueueStatus,
  RosterEntry,
  Settings,
  SubmissionView,
} from '../api/types';

export const exam: Exam = {
  id: 1,
  name: 'Physics mid-term',
  questions: [
    { id: 11, label: 'Q1', prompt: 'State Newton’s second law.', max_points: 2, rubric: '', reference_answer: '', scoring: 'positive', items: [] },
    { id: 12, label: 'Q2', prompt: 'Define momentum.', max_points: 3, rubric: '', reference_answer: '', scoring: 'positive', items: [] },
  ],
};

/** A scan as the snapshot lists it (also usable where a `SubmissionSummary` is expected). */
export const submission: SubmissionView = {
  id: 7,
  exam_id: 1,
  student: 'Ada Lovelace',
  file_name: 'ada.pdf',
  pages: 2,
  items: 1,
  done: 0,
  first_page_id: 501,
  first_page_rev: 'r501',
};

export function item(id: number, state: ItemState, extra: Partial<ItemView> = {}): ItemView {
  return {
    item_id: id,
    submission_id: 7,
    page_number: 1,
    question_label: 'Q1',
    bbox: { x: 0.1, y: 0.1, w: 0.5, h: 0.2 },
    job_id: 100 + id,
    state,
    score: state === 'done' ? 1.5 : null,
    max_points: 2,
    feedback: state === 'done' ? 'Good.' : null,
    error: state === 'failed' ? 'The model could not read the handwriting.' : null,
    teacher_score: null,
    removed: false,
    ...extra,
  };
}

export function snap(seq: number, items: ItemView[], extra: Partial<LiveSnapshot> = {}): LiveSnapshot {
  const counts = { queued: 0, running: 0, succeeded: 0, dead: 0, cancelled: 0, batch: 0 };
  for (const i of items) {
    if (i.state === 'queued' || i.state === 'retrying') counts.queued += 1;
    else if (i.state === 'grading') counts.running += 1;
    else if (i.state === 'done') counts.succeeded += 1;
    else if (i.state === 'failed') counts.dead += 1;
    else if (i.state === 'waiting' || i.state === 'in_batch') counts.batch += 1;
    else counts.cancelled += 1;
  }
  return {
    seq,
    exams: [exam],
    submissions: [
      { ...submission, items: items.length, done: items.filter((i) => i.state === 'done').length },
    ],
    items,
    counts,
    ...extra,
  };
}

export const itemEvent = (seq: number, it: ItemView): Event => ({ seq, type: 'item', item: it });
export const heartbeat = (seq: number): Event => ({ seq, type: 'heartbeat', at_ms: seq * 2000 });
export const changed = (seq: number): Event => ({ seq, type: 'changed', what: 'all' });

export function progress(examId: number | null, extra: Partial<Progress> = {}): Progress {
  return {
    exam_id: examId,
    total: 10,
    done: 4,
    failed: 1,
    queued: 4,
    running: 1,
    per_minute: 6,
    percent: 50,
    eta_seconds: 50,
    ...extra,
  };
}

export function queueStatus(extra: Partial<QueueStatus> = {}): QueueStatus {
  return {
    progress: [progress(null), progress(1)],
    pauses: [],
    provider: { hold: null, next_try_at_ms: null },
    halted: null,
    ...extra,
  };
}

export const queueEvent = (seq: number, status: QueueStatus): Event => ({
  seq,
  type: 'queue',
  status,
});

/** The core's default settings (src-tauri/src/settings.rs), whole as the core sends them. */
export function settings(extra: Partial<Settings> = {}): Settings {
  return {
    provider: 'gemini',
    model: 'gemini-2.5-flash',
    base_url: 'https://generativelanguage.googleapis.com',
    base_url_confirmed_host: null,
    openai_base_url: 'http://127.0.0.1:11434/v1',
    openai_base_url_confirmed_host: null,
    openai_model: 'qwen2.5vl:7b',
    concurrency: 4,
    requests_per_minute: 0,
    requests_per_day: 0,
    request_timeout_secs: 120,
    thinking_budget: 1024,
    thinking_level: 'low',
    media_resolution: 'high',
    ...extra,
  };
}

/** What `desk_snapshot` answers: the snapshot with the queue's state. */
export function deskSnap(seq: number, items: ItemView[], extra: Partial<DeskSnapshot> = {}): DeskSnapshot {
  return { ...snap(seq, items), queue: queueStatus(), ...extra };
}

/** A roster entry as `roster` returns it (id n: student ID 2026000n). */
export const rosterEntry = (id: number, first: string, last: string, extra: Partial<RosterEntry> = {}): RosterEntry => ({
  id,
  roster_id: `2026${String(id).padStart(4, '0')}`,
  name: `${last}, ${first}`,
  last_name: last,
  first_name: first,
  student_id: `2026${String(id).padStart(4, '0')}`,
  lms_id: null,
  login: null,
  email: `${first.toLowerCase()}@school.example`,
  section: null,
  submission_id: null,
  ...extra,
});

/** A script as the matching screen lists it. */
export const matchRow = (submission_id: number, extra: Partial<MatchRow> = {}): MatchRow => ({
  submission_id,
  source: `class.pdf p${submission_id}`,
  read_name: null,
  read_id: null,
  student: null,
  roster_id: null,
  confidence: null,
  status: 'unmatched',
  no_student: false,
  suggestion: null,
  read_state: 'read',
  read_error: null,
  name_crop: null,
  id_crop: null,
  ...extra,
});
