// The IPC contract with the Rust core (see ARCHITECTURE.md, "IPC contract").
// Field names are snake_case exactly as they travel on the wire.

export type Question = {
  id: number;
  label: string;
  prompt: string;
  max_points: number;
  rubric: string;
  reference_answer: string;
};

export type QuestionInput = Omit<Question, 'id'>;

export type Exam = { id: number; name: string; questions: Question[] };

export type ImportResult = { submission_id: number; file: string; pages: number };

export type ItemState = 'queued' | 'grading' | 'retrying' | 'done' | 'failed' | 'cancelled';

export const ITEM_STATES: readonly ItemState[] = [
  'queued',
  'grading',
  'retrying',
  'done',
  'failed',
  'cancelled',
];

/** Fractions of the page, origin top-left, each in [0, 1]. */
export type BBox = { x: number; y: number; w: number; h: number };

export type ItemView = {
  item_id: number;
  submission_id: number;
  page_number: number;
  question_label: string;
  bbox: BBox;
  job_id: number | null;
  state: ItemState;
  score: number | null;
  max_points: number;
  feedback: string | null;
  error: string | null;
  /** The teacher's score when they overrode the AI's; lists show it instead of `score`. */
  teacher_score: number | null;
  /** Re-cropped or deleted: the answer's last event; live views drop it. */
  removed?: boolean;
};

export type SubmissionSummary = {
  id: number;
  exam_id: number;
  student: string;
  file_name: string;
  pages: number;
  items: number;
  done: number;
  /** The first page: its thumbnail stands for the scan in lists (absent for a scan with no pages). */
  first_page_id?: number | null;
};

export type JobCountKey = 'queued' | 'running' | 'succeeded' | 'dead' | 'cancelled';
export type JobCounts = Record<JobCountKey, number>;

export type Snapshot = {
  seq: number;
  exams: Exam[];
  submissions: SubmissionSummary[];
  items: ItemView[];
  counts: JobCounts;
  /** Present when fetched with `desk_snapshot`; kept current by `queue` events. */
  queue?: QueueStatus;
};

/** Progress of one exam (`exam_id`) or of everything (`exam_id: null`). */
export type Progress = {
  exam_id: number | null;
  total: number;
  done: number;
  failed: number;
  queued: number;
  running: number;
  /** Answers finished per minute over the last five minutes. */
  per_minute: number;
  percent: number;
  /** Seconds left at the current rate, when there is a rate. */
  eta_seconds: number | null;
};

export type PauseScope = { scope: 'all' } | { scope: 'exam'; exam_id: number };

export type Pause = {
  scope: PauseScope;
  reason: string;
  /** The pause lifts by itself at this time (ms since the epoch), e.g. a daily quota. */
  until_ms: number | null;
};

export type ProviderHold = 'cooling_down' | 'unavailable' | 'offline';

export type GateStatus = { hold: ProviderHold | null; next_try_at_ms: number | null };

export type QueueStatus = {
  progress: Progress[];
  pauses: Pause[];
  provider: GateStatus;
  /** Why grading stopped until the teacher acts (no key, key rejected, model missing). */
  halted: string | null;
};

export type JobKind = string;

export type DeadJob = {
  job_id: number;
  kind: JobKind;
  item_id: number | null;
  submission_id: number | null;
  attempts: number;
  error: string;
  finished_at: number | null;
};

export type PageInfo = { id: number; number: number; width: number; height: number };

export type SubmissionDetail = {
  submission: SubmissionSummary;
  pages: PageInfo[];
  items: ItemView[];
};

export type CreateExamResult = { exam_id: number };
export type CreateItemResult = { item_id: number; job_id: number };

export type CreateItemArgs = {
  submissionId: number;
  pageNumber: number;
  questionLabel: string;
  bbox: BBox;
};

export type CoreEvent =
  | { seq: number; type: 'item'; item: ItemView }
  | { seq: number; type: 'heartbeat'; at_ms: number }
  | { seq: number; type: 'changed'; what: 'exams' | 'submissions' | 'queue' | 'all' }
  | { seq: number; type: 'queue'; status: QueueStatus };

/** Every command rejects with this shape; `message` is a sentence a teacher can read. */
export type ApiError = { code: string; message: string };

export const CORE_EVENT = 'gradedesk:event';
export const HEARTBEAT_PERIOD_MS = 2000;

/** One step of an answer's history: the AI's grade, then each teacher override. */
export type HistoryEntry = { by: 'ai' | 'teacher'; score: number; note: string | null; at_ms: number };

/** One answer of a question across the class (`review_items`), flagged ones first. */
export type ReviewRow = {
  item_id: number;
  submission_id: number;
  student: string;
  question_label: string;
  state: ItemState;
  max_points: number;
  ai_score: number | null;
  feedback: string | null;
  transcription: string | null;
  confidence: number | null;
  needs_review: boolean;
  review_reason: string | null;
  /** The teacher's current score, if they overrode the AI. */
  teacher_score: number | null;
  teacher_note: string | null;
  /** The final score: the teacher's when there is one, else the AI's. */
  score: number | null;
  history: HistoryEntry[];
};

export type Override = { item_id: number; score: number; note: string | null; created_at: number };

/** The grading settings (`get_settings`). Sent back whole: the core refuses unknown fields. */
export type GradingSettings = {
  provider: 'gemini' | 'openai';
  model: string;
  base_url: string;
  concurrency: number;
  requests_per_minute: number;
  requests_per_day?: number;
  [other: string]: unknown;
};

export type Price = { model_prefix: string; input_per_mtok: number; output_per_mtok: number };

export type KeySource = 'environment' | 'keyring' | 'file' | 'none';

/** The settings page's view: the key only masked ("••••3f9a"), never in full. */
export type SettingsView = {
  settings: GradingSettings;
  prices: Price[];
  api_key: string | null;
  api_key_source: KeySource;
};

/** A file left out of a drop, or refused by import, with the reason as a sentence. */
export type FileNote = { file: string; reason: string };

/** What importing dropped files and folders did (`import_paths`), file by file. */
export type DropReport = { imported: ImportResult[]; skipped: FileNote[]; failed: FileNote[] };

/** The webview's file drag-and-drop, as the UI uses it (paths are on the teacher's disk). */
export type FileDrag =
  | { type: 'enter'; paths: string[] }
  | { type: 'over' }
  | { type: 'drop'; paths: string[] }
  | { type: 'leave' };
