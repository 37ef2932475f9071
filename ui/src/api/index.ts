// The only module that talks to the Rust core. Everything else imports from here.
import { convertFileSrc, invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import { getCurrentWebview } from '@tauri-apps/api/webview';
import { CommandError, noBackendError, toApiError } from './errors';
import {
  CORE_EVENT,
  type Event,
  type ExamCreated,
  type CreateItemArgs,
  type Bbox,
  type CropResult,
  type DeadJob,
  type DropReport,
  type FileDrag,
  type Question,
  type Settings,
  type Price,
  type SettingsView,
  type Override,
  type ReviewRow,
  type Exam,
  type ImportResult,
  type QuestionInput,
  type Snapshot,
  type DeskSnapshot,
  type Estimate,
  type SubmissionDetail,
  type ExamStats,
  type ExportDone,
  type FeedbackReport,
  type Format,
  type TemplateSet,
  type TemplateView,
  type RegionKind,
  type RegionImpact,
  type ClassImport,
  type SplitReview,
  type ClassItem,
  type BatchOverview,
  type BatchPreview,
  type BatchSent,
  type GradingMode,
  type MatchRow,
  type RosterEntry,
  type RosterImport,
  type QuestionEdited,
  type RegradeOffer,
  type ReviewRouting,
  type ReviewPolicy,
} from './types';

export * from './types';
export { CommandError, errorMessage, toApiError } from './errors';

declare global {
  interface Window {
    __TAURI_INTERNALS__?: unknown;
  }
}

/** True inside the Tauri webview; false in a plain browser (e.g. `npm run dev`). */
export function hasBackend(): boolean {
  return typeof window !== 'undefined' && window.__TAURI_INTERNALS__ !== undefined;
}

function requireBackend(): void {
  if (!hasBackend()) throw noBackendError();
}

async function call<T>(
  command: string,
  args?: Parameters<typeof invoke>[1],
  options?: Parameters<typeof invoke>[2],
): Promise<T> {
  requireBackend();
  try {
    return await invoke<T>(command, args, options);
  } catch (err) {
    // Reject with `{code, message}` only, whatever shape the core or Tauri used.
    throw toApiError(err);
  }
}

export function snapshot(): Promise<Snapshot> {
  return call<Snapshot>('snapshot');
}

/** The snapshot plus the queue's state (progress, pauses, provider hold, halt). */
export function deskSnapshot(): Promise<DeskSnapshot> {
  return call<DeskSnapshot>('desk_snapshot');
}

/** Pauses grading of one exam, or of everything when `examId` is absent. */
export function pauseGrading(examId?: number): Promise<void> {
  return call<void>('pause_grading', examId === undefined ? {} : { examId });
}

/** Resumes grading (one exam or everything); also clears a halt so the core tries again. */
export function resumeGrading(examId?: number): Promise<boolean> {
  return call<boolean>('resume_grading', examId === undefined ? {} : { examId });
}

export function cancelItem(itemId: number): Promise<void> {
  return call<void>('cancel_item', { itemId });
}

/** Deletes an answer box: its grading stops and it leaves the crop page, review and export. */
export function deleteItem(itemId: number): Promise<void> {
  return call<void>('delete_item', { itemId });
}

/** Undoes a delete: the box comes back with its grade, or is queued again. */
export function restoreItem(itemId: number): Promise<void> {
  return call<void>('restore_item', { itemId });
}

/**
 * Replaces a moved, resized or reassigned box in one core call: the new box is cut and
 * queued and the old one removed together, or nothing changes.
 */
export function recropItem(itemId: number, questionLabel: string, bbox: Bbox): Promise<CropResult> {
  return call<CropResult>('recrop_item', { itemId, questionLabel, bbox });
}

/** "Grade now": moves the answer to the front of the queue. */
export function prioritizeItem(itemId: number): Promise<void> {
  return call<void>('prioritize_item', { itemId });
}

export function deadJobs(): Promise<DeadJob[]> {
  return call<DeadJob[]>('dead_jobs');
}

/** Retries one failed job, or all of them when `jobId` is absent. Resolves with how many. */
export function retryFailed(jobId?: number): Promise<number> {
  return call<number>('retry_failed', jobId === undefined ? {} : { jobId });
}

/** Retries the failed grading of one answer: finds its dead job, then retries it. */
export async function retryItem(itemId: number): Promise<number> {
  const dead = await deadJobs();
  const job = dead.find((d) => d.item_id === itemId);
  if (job === undefined) {
    throw new CommandError(
      'not_found',
      'This answer has no failed grading to retry: it may already be back in the queue.',
    );
  }
  return retryFailed(job.job_id);
}

/** The current answers to one question across the class, flagged ones first. */
export function reviewItems(examId: number, questionLabel: string): Promise<ReviewRow[]> {
  return call<ReviewRow[]>('review_items', { examId, questionLabel });
}

/** Records the teacher's score (0 … the question's points); the export uses it. */
export function overrideScore(itemId: number, score: number, note?: string): Promise<Override> {
  return call<Override>('override_score', note === undefined ? { itemId, score } : { itemId, score, note });
}

/** The teacher's decision by rubric items: the core adds their points (bounded 0 … max). */
export function setAnswerItems(itemId: number, rubricItemIds: number[], note?: string): Promise<Override> {
  return call<Override>(
    'set_answer_items',
    note === undefined ? { itemId, rubricItemIds } : { itemId, rubricItemIds, note },
  );
}

/** The teacher accepts the AI's grade as it stands (items and score). */
export function acceptAnswer(itemId: number): Promise<Override> {
  return call<Override>('accept_answer', { itemId });
}

/** Corrects the model's transcription of an answer (kept beside the model's). */
export function setTranscription(itemId: number, text: string): Promise<void> {
  return call<void>('set_transcription', { itemId, text });
}

/** How a question's review is routed: policy, measured agreement, and the counts per route. */
export function reviewRouting(examId: number, questionLabel: string): Promise<ReviewRouting> {
  return call<ReviewRouting>('review_routing', { examId, questionLabel });
}

/** Sets an exam's routing policy (auto-accept, thresholds, double grading). */
export function setReviewPolicy(examId: number, policy: ReviewPolicy): Promise<ReviewPolicy> {
  return call<ReviewPolicy>('set_review_policy', { examId, policy });
}

export function getSettings(): Promise<SettingsView> {
  return call<SettingsView>('get_settings');
}

/** Saves the settings and the price table; grading picks them up at once. */
export function saveSettings(settings: Settings, prices: Price[]): Promise<SettingsView> {
  return call<SettingsView>('save_settings', { settings, prices });
}

/** Stores the API key (OS keyring, else a private file). The reply holds only its masked form. */
export function setApiKey(key: string): Promise<SettingsView> {
  return call<SettingsView>('set_api_key', { key });
}

/** Asks Gemini whether the stored key and model work; resolves with a sentence. */
export function testApiKey(): Promise<string> {
  return call<string>('test_api_key');
}

/** The tokens and cost of the answers still to grade (one exam or all), and what graded
 * answers cost. */
export function estimate(examId?: number): Promise<Estimate> {
  return call<Estimate>('estimate', examId === undefined ? {} : { examId });
}

/** Writes the exam's gradebook in `format` to the file `path` (on the teacher's disk). */
export function exportGradebook(examId: number, format: Format, path: string): Promise<ExportDone> {
  return call<ExportDone>('export_gradebook', { examId, format, path });
}

/** Writes a feedback PDF per student and one for the class into the folder `dir`. */
export function exportFeedback(examId: number, dir: string): Promise<FeedbackReport> {
  return call<FeedbackReport>('export_feedback', { examId, dir });
}

/** The exam's statistics: per question, the totals, and the AI against the teacher. */
export function examStats(examId: number): Promise<ExamStats> {
  return call<ExamStats>('exam_stats', { examId });
}

/** The folder the export menu suggests (GradeDesk in the Downloads folder). */
export function exportFolder(): Promise<string> {
  return call<string>('export_folder');
}

/** Corrects the student's name of a scan. */
export function renameStudent(submissionId: number, student: string): Promise<void> {
  return call<void>('rename_student', { submissionId, student });
}

export function listExams(): Promise<Exam[]> {
  return call<Exam[]>('list_exams');
}

export function createExam(name: string, questions: QuestionInput[]): Promise<ExamCreated> {
  return call<ExamCreated>('create_exam', { name, questions });
}

/** Renames an exam. */
export function updateExam(examId: number, name: string): Promise<void> {
  return call<void>('update_exam', { examId, name });
}

/** Adds questions at the end of an exam (one from the editor, or a whole file), all or none. */
export function addQuestions(examId: number, questions: QuestionInput[]): Promise<Question[]> {
  return call<Question[]>('add_questions', { examId, questions });
}

/** Edits a question; its points cannot change once an answer has a score. Editing its items
 * re-scores every answer that has them (no model call); the reply says which, and what
 * grading the question again would cost when items were added. */
export function updateQuestion(questionId: number, question: QuestionInput): Promise<QuestionEdited> {
  return call<QuestionEdited>('update_question', { questionId, question });
}

/** What grading a question's answers again would involve (answers, measured cost). */
export function regradeOffer(questionId: number): Promise<RegradeOffer> {
  return call<RegradeOffer>('regrade_offer', { questionId });
}

/** Grades every current answer of the question again; resolves with how many were queued. */
export function regradeQuestion(questionId: number): Promise<number> {
  return call<number>('regrade_question', { questionId });
}

/** Deletes a question; refused (with the reason) when answers are boxed for it. */
export function deleteQuestion(questionId: number): Promise<void> {
  return call<void>('delete_question', { questionId });
}

/** Imports dropped files and folders by path; folders are searched for scans by the core. */
export function importPaths(examId: number, paths: string[]): Promise<DropReport> {
  return call<DropReport>('import_paths', { examId, paths });
}

/**
 * Follows files dragged over and dropped on the window (the webview reports their paths).
 * Resolves with a function that stops listening.
 */
export async function onFileDrag(handler: (drag: FileDrag) => void): Promise<() => void> {
  requireBackend();
  try {
    return await getCurrentWebview().onDragDropEvent((e) => {
      const p = e.payload;
      handler(p.type === 'enter' || p.type === 'drop' ? { type: p.type, paths: p.paths } : { type: p.type });
    });
  } catch (err) {
    throw toApiError(err);
  }
}

/** How long a desktop notification may take to be handed over before it is given up. */
export const NOTIFY_TIMEOUT_MS = 3000;

/**
 * Shows a desktop notification (tauri-plugin-notification). Resolves true when it was handed
 * to the system, false when that failed or took too long (no notification service): the
 * caller shows a toast either way, so nothing depends on it.
 */
export async function notifyDesktop(title: string, body: string): Promise<boolean> {
  if (!hasBackend()) return false;
  const sent = invoke('plugin:notification|notify', { options: { title, body } }).then(
    () => true,
    () => false,
  );
  const late = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), NOTIFY_TIMEOUT_MS));
  return Promise.race([sent, late]);
}

/** Sends the file's bytes as the raw IPC body; the exam and file name travel in headers. */
export async function importFile(examId: number, file: File): Promise<ImportResult> {
  requireBackend();
  const bytes = new Uint8Array(await file.arrayBuffer());
  return call<ImportResult>('import_file', bytes, {
    headers: {
      'x-exam-id': String(examId),
      'x-file-name': encodeURIComponent(file.name),
    },
  });
}

/** Hands the core one chosen file's bytes (raw IPC body) for a template or class import. */
export async function uploadFile(file: File): Promise<string> {
  requireBackend();
  const bytes = new Uint8Array(await file.arrayBuffer());
  return call<string>('upload_file', bytes, { headers: { 'x-file-name': encodeURIComponent(file.name) } });
}

/** Uploads each file in turn; resolves with their tokens in order. */
async function uploadAll(files: File[]): Promise<string[]> {
  const tokens: string[] = [];
  for (const file of files) tokens.push(await uploadFile(file));
  return tokens;
}

/** Sets the exam's template from the blank exam's files (pages in order across them). */
export async function setTemplate(examId: number, files: File[]): Promise<TemplateSet> {
  const uploads = await uploadAll(files);
  return call<TemplateSet>('set_template', { examId, uploads });
}

/** Promotes one imported submission's pages to be the exam's template. */
export function setTemplateFromSubmission(examId: number, submissionId: number): Promise<TemplateSet> {
  return call<TemplateSet>('set_template_from_submission', { examId, submissionId });
}

export function templateView(examId: number): Promise<TemplateView> {
  return call<TemplateView>('template_view', { examId });
}

/** Draws a region on template page `page`: a question's answer (`questionLabel`), or the name or ID. */
export function addRegion(
  examId: number,
  page: number,
  kind: RegionKind,
  questionLabel: string | null,
  bbox: Bbox,
): Promise<number> {
  return call<number>('add_region', { examId, page, kind, questionLabel, bbox });
}

/** What editing a region would grade again. */
export function regionImpact(regionId: number): Promise<RegionImpact> {
  return call<RegionImpact>('region_impact', { regionId });
}

/** Moves or resizes a region; every student's answer is cut again. Resolves with how many. */
export function moveRegion(regionId: number, bbox: Bbox): Promise<number> {
  return call<number>('move_region', { regionId, bbox });
}

export function deleteRegion(regionId: number): Promise<number> {
  return call<number>('delete_region', { regionId });
}

/** Imports the whole class from the chosen files; grading waits for the split review. */
export async function importClass(examId: number, files: File[]): Promise<ClassImport> {
  const uploads = await uploadAll(files);
  return call<ClassImport>('import_class', { examId, uploads });
}

/** Imports the whole class from files dropped on the window. */
export function importClassPaths(examId: number, paths: string[]): Promise<ClassImport> {
  return call<ClassImport>('import_class_paths', { examId, paths });
}

export function splitReview(examId: number): Promise<SplitReview> {
  return call<SplitReview>('split_review', { examId });
}

export function setPageAside(pageId: number): Promise<void> {
  return call<void>('set_page_aside', { pageId });
}

/** Gives a page nobody got to a student (null: a new student) as template page `slot`. */
export function placePage(unassignedId: number, submissionId: number | null, slot: number): Promise<number> {
  return call<number>('place_page', { unassignedId, submissionId, slot });
}

/** Moves a student's page to another student (null: a new student) as template page `slot`. */
export function movePage(pageId: number, submissionId: number | null, slot: number): Promise<number> {
  return call<number>('move_page', { pageId, submissionId, slot });
}

/** Splits a student: the pages from template page `fromSlot` on become a new student. */
export function splitStudent(submissionId: number, fromSlot: number): Promise<number> {
  return call<number>('split_student', { submissionId, fromSlot });
}

export function mergeStudents(into: number, from: number): Promise<void> {
  return call<void>('merge_students', { into, from });
}

/** The split is right: grading of the exam starts. */
export function confirmSplit(examId: number): Promise<void> {
  return call<void>('confirm_split', { examId });
}

/** Moves a page's mapped regions by (dx, dy) page pixels (where the writing is); its answers are cut again. */
export function shiftAlignment(pageId: number, dx: number, dy: number): Promise<number> {
  return call<number>('shift_alignment', { pageId, dx, dy });
}

/** Adds a piece of writing found outside the boxes to an answer, which is graded again. */
export function addOutsideWriting(itemId: number, pageId: number, index: number): Promise<number> {
  return call<number>('add_outside_writing', { itemId, pageId, index });
}

/** Turns a page `quarters` quarter turns clockwise and fits it again that way up. */
export function turnPage(pageId: number, quarters: number): Promise<number> {
  return call<number>('turn_page', { pageId, quarters });
}

/** Says a piece of writing outside the boxes is no answer's (no longer listed or flagged). */
export function dismissOutsideWriting(pageId: number, index: number): Promise<void> {
  return call<void>('dismiss_outside_writing', { pageId, index });
}

export function classItems(examId: number): Promise<ClassItem[]> {
  return call<ClassItem[]>('class_items', { examId });
}

/** URL of a template page's preview. */
export function templateImageUrl(templatePageId: number): string {
  if (!hasBackend()) return '';
  return convertFileSrc(`template/${templatePageId}`, 'gdimg');
}

/** URL of the preview of a page nobody got. */
export function looseImageUrl(unassignedId: number): string {
  if (!hasBackend()) return '';
  return convertFileSrc(`loose/${unassignedId}`, 'gdimg');
}

export function getSubmission(submissionId: number): Promise<SubmissionDetail> {
  return call<SubmissionDetail>('get_submission', { submissionId });
}

export function createItem(args: CreateItemArgs): Promise<CropResult> {
  return call<CropResult>('create_item', {
    submissionId: args.submissionId,
    pageNumber: args.pageNumber,
    questionLabel: args.questionLabel,
    bbox: args.bbox,
  });
}

/**
 * URL of a page preview (≤ 2000 px), served by id through the `gdimg` protocol. `rev` is the
 * page's `PageView.rev`: it changes when enhancement replaces the page's images, so the URL
 * does too and the webview never shows the old image from its cache.
 */
export function pageImageUrl(pageId: number, rev: string): string {
  if (!hasBackend()) return '';
  return convertFileSrc(`page/${pageId}/${rev}`, 'gdimg');
}

/** URL of a page's thumbnail (≤ 256 px), for lists and the page strip (`rev` as above). */
export function pageThumbUrl(pageId: number, rev: string | null): string {
  if (!hasBackend()) return '';
  return convertFileSrc(rev === null ? `thumb/${pageId}` : `thumb/${pageId}/${rev}`, 'gdimg');
}

/** URL of the crop of one answer region. */
export function cropImageUrl(itemId: number): string {
  if (!hasBackend()) return '';
  return convertFileSrc(`crop/${itemId}`, 'gdimg');
}

/**
 * Subscribes to `gradedesk:event`. Resolves once the listener is registered, with a
 * function that removes it.
 */
export async function onCoreEvent(handler: (event: Event) => void): Promise<() => void> {
  requireBackend();
  try {
    return await listen<Event>(CORE_EVENT, (e) => handler(e.payload));
  } catch (err) {
    throw toApiError(err);
  }
}

/** Each exam's grading mode and counts, and every batch (newest first). */
export function batchOverview(): Promise<BatchOverview> {
  return call<BatchOverview>('batch_overview');
}

/** Grade an exam now (online) or later (in a batch); resolves with how many answers moved. */
export function setGradingMode(examId: number, mode: GradingMode): Promise<number> {
  return call<number>('set_grading_mode', { examId, mode });
}

/** What sending the exam's waiting answers as a batch would cost. */
export function batchEstimate(examId: number): Promise<BatchPreview> {
  return call<BatchPreview>('batch_estimate', { examId });
}

/** Sends the exam's waiting answers as one Gemini batch. */
export function sendBatch(examId: number): Promise<BatchSent> {
  return call<BatchSent>('send_batch', { examId });
}

/** Asks Gemini to cancel a batch; its answers go back to waiting. */
export function cancelBatch(name: string): Promise<void> {
  return call<void>('cancel_batch', { name });
}

/** Imports the exam's class list from a roster file (raw IPC body; the exam in a header). */
export async function importRoster(examId: number, file: File): Promise<RosterImport> {
  requireBackend();
  const bytes = new Uint8Array(await file.arrayBuffer());
  return call<RosterImport>('import_roster', bytes, { headers: { 'x-exam-id': String(examId) } });
}

export function roster(examId: number): Promise<RosterEntry[]> {
  return call<RosterEntry[]>('roster', { examId });
}

export function matchRows(examId: number): Promise<MatchRow[]> {
  return call<MatchRow[]>('match_rows', { examId });
}

/** Gives a script the roster entry with `rosterId` (null: nobody on the roster). */
export function setMatch(examId: number, submissionId: number, rosterId: string | null): Promise<MatchRow> {
  return call<MatchRow>('set_match', { examId, submissionId, rosterId });
}

/** URL of a script's name box (`box` 'name') or ID box ('idbox'); `path` (the crop's file,
 * renamed when it is cut again) keeps the webview from showing an old crop. */
export function nameBoxUrl(submissionId: number, box: 'name' | 'idbox', path: string): string {
  if (!hasBackend()) return '';
  const rev = path.split(/[\\/]/).pop()?.replace(/\.[a-z]+$/i, '') ?? '0';
  return convertFileSrc(`${box}/${submissionId}/${rev}`, 'gdimg');
}
