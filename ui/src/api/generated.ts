// Generated from the Rust types by src-tauri/src/wire.rs: do not edit by hand.
// `make types` writes it again; a test fails when it is stale.

/**
 * A box as fractions of the page's width and height, origin at the top left.
 */
export type Bbox = { x: number, y: number, w: number, h: number, };

/**
 * A stored question: everything the grader needs to judge an answer.
 */
export type Question = { id: number, label: string, prompt: string, max_points: number, 
/**
 * Free rubric guidance beside the items (shown to the model as notes).
 */
rubric: string, reference_answer: string, scoring: Scoring, 
/**
 * The items the model chooses from and the core adds up.
 */
items: Array<RubricItem>, };

/**
 * A question as the teacher writes it in the questions file.
 */
export type QuestionInput = { label: string, prompt: string, max_points: number, 
/**
 * Free text, or (in a questions file) a list of `{text, points}` lines, which is
 * written down as text lines "- text (N pts)" so the grader and the editor read the same.
 */
rubric: string, reference_answer: string, 
/**
 * How the rubric items count (positive when absent).
 */
scoring: Scoring, 
/**
 * The rubric items the core scores. A rubric given as lines with points (or text whose
 * every line is "- text (N pts)") becomes items when this is empty.
 */
items: Array<RubricItemInput>, };

/**
 * An exam with its questions in order.
 */
export type Exam = { id: number, name: string, questions: Array<Question>, };

/**
 * One student's scan, as listed: how far its grading has come.
 */
export type SubmissionSummary = { id: number, exam_id: number, student: string, 
/**
 * The file the scan was imported from.
 */
file_name: string, pages: number, 
/**
 * Current answers boxed on the scan (re-cropped and deleted ones left out).
 */
items: number, 
/**
 * Of those, the answers graded.
 */
done: number, 
/**
 * The first page, whose thumbnail stands for the scan in lists (`gdimg://…/thumb/<id>`).
 */
first_page_id: number | null, };

/**
 * A page's identity and pixel size; the UI draws boxes on its preview.
 */
export type PageInfo = { id: number, number: number, width: number, height: number, };

/**
 * Where an answer stands, in the words the UI shows.
 */
export type ItemState = "queued" | "grading" | "retrying" | "done" | "failed" | "cancelled" | "waiting" | "in_batch";

/**
 * One answer as the UI and the CLI's status show it.
 */
export type ItemView = { item_id: number, submission_id: number, page_number: number, question_label: string, bbox: Bbox, 
/**
 * The answer's latest grading job, for cancel and "grade now".
 */
job_id: number | null, state: ItemState, 
/**
 * The AI's score, once graded.
 */
score: number | null, max_points: number, feedback: string | null, 
/**
 * Why grading failed, is being retried, or was cancelled (None otherwise).
 */
error: string | null, 
/**
 * The teacher's score when they overrode the AI's (lists show it instead of `score`).
 */
teacher_score: number | null, 
/**
 * Re-cropped or deleted: the last event of an answer that left the lists, so live
 * views drop it instead of keeping a stale box.
 */
removed: boolean, };

/**
 * One step of an answer's history: the AI's grade, then each teacher override.
 */
export type HistoryEntry = { 
/**
 * "ai" or "teacher".
 */
by: string, score: number, note: string | null, 
/**
 * When it was given, in wall-clock milliseconds.
 */
at_ms: number, };

/**
 * A teacher's override as stored.
 */
export type Override = { item_id: number, score: number, note: string | null, created_at: number, };

/**
 * One answer of a question across the class, for the review page.
 */
export type ReviewRow = { item_id: number, submission_id: number, student: string, question_label: string, state: ItemState, max_points: number, ai_score: number | null, feedback: string | null, 
/**
 * The transcription as it stands: the teacher's correction, else the model's.
 */
transcription: string | null, 
/**
 * The model's own transcription, kept beside a correction.
 */
model_transcription: string | null, transcription_edited: boolean, confidence: number | null, 
/**
 * Still waits for the teacher (flagged, or not accepted on the evidence).
 */
needs_review: boolean, 
/**
 * Why it was routed where it is: a flag, what the evidence lacks, or why it was accepted.
 */
review_reason: string | null, route: Route, 
/**
 * Accepted by the teacher, or automatically on the measured evidence.
 */
accepted: boolean, 
/**
 * The rubric items the model applied, with its evidence.
 */
applied: Array<AppliedItem>, 
/**
 * The items the teacher chose, when their decision was by items.
 */
teacher_items: Array<number> | null, 
/**
 * The teacher's latest decision: "score", "items" or "accept".
 */
decision: string | null, 
/**
 * The core's own flag (an answer addressing the grader, full marks for nothing).
 */
core_flag: string | null, 
/**
 * The second grading of a double-graded answer.
 */
second_opinion: SecondOpinion | null, 
/**
 * The teacher's current score, if they overrode the AI.
 */
teacher_score: number | null, teacher_note: string | null, 
/**
 * The final score: the teacher's when there is one, else the AI's.
 */
score: number | null, history: Array<HistoryEntry>, 
/**
 * "writing outside the boxes on page 2": the class import found the student's writing
 * outside every region of these pages, which no answer's crop holds.
 */
outside_writing: string | null, 
/**
 * Each such piece of writing, to show and to add to this answer.
 */
outside: Array<OutsideWriting>, };

/**
 * How a question's items count.
 */
export type Scoring = "positive" | "negative";

/**
 * One rubric item of a question: what the model is asked about and the teacher toggles.
 */
export type RubricItem = { 
/**
 * Stable across edits: the model names items by it and answers keep it.
 */
id: number, text: string, 
/**
 * Positive to award, negative to deduct.
 */
points: number, };

/**
 * A rubric item as the teacher or a questions file writes it.
 */
export type RubricItemInput = { 
/**
 * The item this edits; absent for a new item.
 */
id?: number, text: string, points: number, };

/**
 * An item the model applied to an answer, with the words it quoted as evidence.
 */
export type AppliedItem = { item_id: number, evidence: string, };

/**
 * Where an answer stands.
 */
export type Route = "flagged" | "waiting" | "auto_accepted" | "teacher";

/**
 * An exam's routing settings.
 */
export type ReviewPolicy = { 
/**
 * Off (the default) until the teacher turns it on: every answer waits for them.
 */
auto_accept: boolean, 
/**
 * The model's confidence an answer needs (0..1).
 */
confidence_threshold: number, 
/**
 * The share of reviewed answers on which the AI gave the teacher's score (0..1).
 */
agreement_target: number, 
/**
 * Grade every answer twice; a disagreement beyond one point goes to review.
 */
double_grading: boolean, };

/**
 * How a question's review is routed: the exam's policy, the agreement measured so far, and
 * how many of its answers are flagged, waiting, accepted automatically or by the teacher.
 */
export type ReviewRouting = { question_label: string, policy: ReviewPolicy, 
/**
 * Answers the teacher accepted or overrode.
 */
reviewed: number, 
/**
 * Of those, where the AI gave the teacher's score.
 */
exact: number, 
/**
 * Reviews needed before the agreement counts.
 */
min_reviewed: number, flagged: number, waiting: number, auto_accepted: number, by_teacher: number, };

/**
 * What a rubric edit did: items added and removed, and the answers whose score changed.
 */
export type RubricChange = { added: number, removed: number, 
/**
 * Items whose points changed.
 */
repointed: number, 
/**
 * Answers (item ids) re-scored, the model not asked.
 */
rescored: Array<number>, 
/**
 * Answers of the question graded before the new items existed: grading them again is
 * what would apply the new items (offered, never done silently).
 */
graded_before: number, };

/**
 * What grading a question again would involve: how many current answers, and what their
 * grading cost so far (the measured price of one, times the answers).
 */
export type RegradeOffer = { question_label: string, 
/**
 * Current answers that would be graded again.
 */
answers: number, 
/**
 * What they cost when graded before, in dollars (None when no cost is known).
 */
estimated_usd: number | null, 
/**
 * Each answer is graded twice on this exam.
 */
double_grading: boolean, };

/**
 * A second grading of an answer, as stored.
 */
export type SecondOpinion = { score: number, items: Array<number>, transcription: string, feedback: string, model: string, };

/**
 * A question after an edit, with what the edit did to its answers.
 */
export type QuestionEdited = { question: Question, change: RubricChange, 
/**
 * Set when items were added to a question with graded answers: what grading it again
 * would cost (the teacher decides).
 */
regrade: RegradeOffer | null, };

/**
 * One change to a question's items, as the CLI names it.
 */
export type RubricEdit = { "op": "add", text: string, points: number, } | { "op": "change", id: number, text?: string, points?: number, } | { "op": "delete", id: number, } | { "op": "scoring", scoring: Scoring, };

/**
 * One student of an exam's roster.
 */
export type RosterEntry = { id: number, 
/**
 * What the teacher and the CLI name the student by (the school ID when there is one).
 */
roster_id: string, 
/**
 * "Last, First".
 */
name: string, last_name: string, first_name: string, student_id: string | null, lms_id: string | null, login: string | null, email: string | null, section: string | null, 
/**
 * The script given to this student, if any.
 */
submission_id: number | null, };

/**
 * How a script's student was decided.
 */
export type MatchStatus = "auto" | "confirmed" | "unmatched";

/**
 * A roster entry the matching suggests for a script it did not match by itself.
 */
export type MatchSuggestion = { entry_id: number, roster_id: string, student: string, };

/**
 * Where a script's name reading stands.
 */
export type ReadState = "none" | "queued" | "reading" | "read" | "failed";

/**
 * One script on the matching screen and in `gradedesk match --json`.
 */
export type MatchRow = { submission_id: number, 
/**
 * The file (and page) the script came from: shown beside the student's name.
 */
source: string, read_name: string | null, read_id: string | null, 
/**
 * The roster's "Last, First" when matched.
 */
student: string | null, roster_id: string | null, 
/**
 * The match's (or the suggestion's) similarity, 0..1.
 */
confidence: number | null, status: MatchStatus, 
/**
 * The teacher said this script is nobody on the roster.
 */
no_student: boolean, suggestion: MatchSuggestion | null, read_state: ReadState, 
/**
 * The name-reading job's last error, when it failed.
 */
read_error: string | null, 
/**
 * The crops of the name and ID boxes (gdimg paths), when there are.
 */
name_crop: string | null, id_crop: string | null, };

/**
 * A line that was not taken, and why (shown to the teacher as it is).
 */
export type SkippedRow = { line: number, reason: string, };

/**
 * What `roster import` reports: the students stored and the lines left out.
 */
export type RosterImport = { students: number, skipped: Array<SkippedRow>, };

/**
 * How many answers' grading jobs are in each state.
 */
export type Counts = { queued: number, running: number, succeeded: number, dead: number, cancelled: number, 
/**
 * Grading jobs of the batch channel: waiting for a batch or in one (no worker runs
 * them, so they are not `queued`).
 */
batch: number, };

/**
 * Grading progress of one exam, or of everything (exam_id `None`).
 */
export type Progress = { exam_id: number | null, total: number, done: number, failed: number, queued: number, running: number, 
/**
 * Answers finished per minute over the last five minutes.
 */
per_minute: number, percent: number, 
/**
 * Seconds left at the current rate, when there is a rate.
 */
eta_seconds: number | null, };

/**
 * What a pause covers.
 */
export type PauseScope = { "scope": "all" } | { "scope": "exam", "exam_id": number };

/**
 * A pause in force, as every process sees it.
 */
export type Pause = { scope: PauseScope, reason: string, until_ms: number | null, };

/**
 * The kinds of work the pool runs.
 */
export type JobKind = "GRADE_ITEM" | "UPSCALE_SUBMISSION" | "READ_NAME";

/**
 * A job given up on, with why.
 */
export type DeadJob = { job_id: number, kind: JobKind, item_id: number | null, submission_id: number | null, attempts: number, error: string, finished_at: number | null, };

/**
 * Everything the UI shows about the queue beyond the answers themselves.
 */
export type QueueStatus = { progress: Array<Progress>, pauses: Array<Pause>, provider: GateStatus, 
/**
 * Why grading stopped until the teacher acts (no key, key rejected, model missing).
 */
halted: string | null, };

/**
 * Why requests are held back, for the UI ("Gemini unavailable — next try at 14:05").
 */
export type Hold = "cooling_down" | "unavailable" | "offline";

/**
 * The gate's state for status displays.
 */
export type GateStatus = { hold: Hold | null, 
/**
 * When the next request may go out (ms since the epoch), if held.
 */
next_try_at_ms: number | null, };

/**
 * What a `changed` event asks front ends to refetch.
 */
export type Changed = "exams" | "submissions" | "queue" | "batches" | "roster" | "all";

/**
 * What happened, without its sequence number.
 */
export type EventBody = { "type": "item", item: ItemView, } | { "type": "queue", status: QueueStatus, } | { "type": "heartbeat", at_ms: number, } | { "type": "changed", what: Changed, };

/**
 * An event as delivered: `seq` first, then the body's fields.
 */
export type Event = { seq: number, } & ({ "type": "item", item: ItemView, } | { "type": "queue", status: QueueStatus, } | { "type": "heartbeat", at_ms: number, } | { "type": "changed", what: Changed, });

/**
 * Which service grades.
 */
export type Provider = "gemini" | "openai";

/**
 * The teacher's grading settings. Every field has a default, so an old settings row with a
 * field missing still loads.
 */
export type Settings = { provider: Provider, 
/**
 * Gemini model id, e.g. gemini-2.5-flash.
 */
model: string, 
/**
 * Gemini base URL (a proxy, or the test fake).
 */
base_url: string, 
/**
 * The host the teacher confirmed the API key may be sent to, when `base_url` is
 * neither Google's endpoint nor this computer. A confirmation names one host: a
 * base URL on another host needs a new one.
 */
base_url_confirmed_host: string | null, 
/**
 * OpenAI-compatible base URL including /v1, e.g. http://127.0.0.1:11434/v1.
 */
openai_base_url: string, 
/**
 * Like `base_url_confirmed_host`, for `openai_base_url`.
 */
openai_base_url_confirmed_host: string | null, 
/**
 * The local vision model's name, e.g. qwen2.5vl:7b.
 */
openai_model: string, 
/**
 * Answers graded at once.
 */
concurrency: number, 
/**
 * Requests per minute the pool may send (the provider's tier limit); 0 = no limit.
 */
requests_per_minute: number, 
/**
 * Requests per day (free tiers); 0 = no limit.
 */
requests_per_day: number, 
/**
 * Seconds before a request counts as timed out.
 */
request_timeout_secs: number, 
/**
 * Gemini 2.x thinking budget in tokens.
 */
thinking_budget: number, 
/**
 * Gemini 3.x thinking level.
 */
thinking_level: string, 
/**
 * Gemini 3.x media resolution: low, medium or high.
 */
media_resolution: string, };

/**
 * Where the key came from, for the settings page ("from the keyring").
 */
export type KeySource = "environment" | "keyring" | "file" | "none";

/**
 * A price per million tokens for the models whose id starts with `model_prefix`.
 */
export type Price = { model_prefix: string, input_per_mtok: number, output_per_mtok: number, };

/**
 * The totals for a batch.
 */
export type BatchEstimate = { model: string, answers: number, 
/**
 * Answers whose crop could not be read (left out of the totals).
 */
unreadable: number, text_tokens: number, image_tokens: number, 
/**
 * What `promptTokenCount` should add up to.
 */
prompt_tokens: number, expected_output_tokens: number, expected_thinking_tokens: number, 
/**
 * Image tokens had the crops been sent as they are on disk.
 */
image_tokens_unprepared: number, bytes_on_disk: number, bytes_sent: number, 
/**
 * Dollars, or None when the model has no price.
 */
expected_cost_usd: number | null, 
/**
 * Dollars if every answer thinks up to its whole budget.
 */
max_cost_usd: number | null, 
/**
 * Answers graded twice because their exam asks for a second opinion (their tokens are
 * counted twice in the totals above).
 */
double_graded: number, 
/**
 * The part of the expected cost the second opinions add, or None without a price.
 */
double_grading_cost_usd: number | null, };

/**
 * What stored grades report.
 */
export type BatchActual = { graded: number, prompt_tokens: number, output_tokens: number, thoughts_tokens: number, cost_usd: number | null, };

/**
 * A new exam's id (what `create_exam` answers, in the window and on the CLI).
 */
export type ExamCreated = { exam_id: number, };

/**
 * What an import produced (the CLI prints it, the UI lists it).
 */
export type ImportResult = { submission_id: number, file: string, pages: number, };

/**
 * A file that was left out of a drop, and why (in a sentence for the teacher).
 */
export type FileNote = { file: string, reason: string, };

/**
 * What a drop of files and folders did, file by file.
 */
export type DropReport = { imported: Array<ImportResult>, 
/**
 * Not scans (hidden files, other kinds of files, unreadable folders): not tried.
 */
skipped: Array<FileNote>, 
/**
 * Scans that were tried and refused (damaged, too large, …).
 */
failed: Array<FileNote>, };

/**
 * The answer region and its grading job, just created.
 */
export type CropResult = { item_id: number, job_id: number, };

/**
 * A submission in lists, with the revision of its first page's images (see [`PageView`]).
 */
export type SubmissionView = { 
/**
 * The first page's [`PageView::rev`]: part of its thumbnail's URL.
 */
first_page_rev: string | null, id: number, exam_id: number, student: string, 
/**
 * The file the scan was imported from.
 */
file_name: string, pages: number, 
/**
 * Current answers boxed on the scan (re-cropped and deleted ones left out).
 */
items: number, 
/**
 * Of those, the answers graded.
 */
done: number, 
/**
 * The first page, whose thumbnail stands for the scan in lists (`gdimg://…/thumb/<id>`).
 */
first_page_id: number | null, };

/**
 * A page as the crop page shows it.
 */
export type PageView = { 
/**
 * Changes whenever the page's preview and thumbnail are replaced (enhancement writes
 * new ones under the same page id). The UI puts it in their `gdimg` URLs, so a
 * replaced image is never shown from the webview's cache.
 */
rev: string, id: number, number: number, width: number, height: number, };

/**
 * Everything the UI shows, as of `seq`: events with a higher seq apply on top.
 */
export type Snapshot = { seq: number, exams: Array<Exam>, submissions: Array<SubmissionView>, items: Array<ItemView>, counts: Counts, };

/**
 * One submission with its pages and answers, for the crop page.
 */
export type SubmissionDetail = { submission: SubmissionSummary, pages: Array<PageView>, items: Array<ItemView>, };

/**
 * The settings page's view: no key, only its masked tail and where it is kept.
 */
export type SettingsView = { 
/**
 * As stored in the data dir.
 */
settings: Settings, 
/**
 * What grading uses: the stored settings with the environment's overrides.
 */
effective: Settings, prices: Array<Price>, 
/**
 * The key's last four characters ("••••1234"), or null when there is none.
 */
api_key: string | null, api_key_source: KeySource, };

/**
 * What the answers still to grade should cost, and what graded ones did.
 */
export type Estimate = { to_grade: BatchEstimate, graded: BatchActual, };

/**
 * The snapshot plus the queue's state (progress, pauses, provider, halt): what the
 * window's live view loads.
 */
export type DeskSnapshot = { queue: QueueStatus, seq: number, exams: Array<Exam>, submissions: Array<SubmissionView>, items: Array<ItemView>, counts: Counts, };

/**
 * What kind of failure it was, for the UI and the CLI's exit status.
 */
export type ErrorCode = "invalid" | "not_found" | "bad_file" | "bad_box" | "api_key" | "storage" | "io";

/**
 * What the UI receives when a command fails.
 */
export type ErrorReply = { code: ErrorCode, message: string, };

/**
 * The gradebook layouts `export` writes.
 */
export type Format = "answers" | "csv" | "csv-long" | "canvas" | "moodle" | "classroom" | "xlsx";

/**
 * What `feedback` wrote.
 */
export type FeedbackReport = { 
/**
 * Students with a PDF.
 */
students: number, 
/**
 * Each student's PDF, in class order.
 */
files: Array<string>, 
/**
 * The whole class in one PDF.
 */
class_pdf: string, };

/**
 * What an export from the window wrote.
 */
export type ExportDone = { 
/**
 * Rows written: students, or answers for the row-per-answer layouts.
 */
rows: number, path: string, };

/**
 * One bar of a histogram: the count of values in `[lo, hi)` (the last bar includes `hi`),
 * or, for a question, of the scores at the level `lo`..`hi` is centred on.
 */
export type Bin = { lo: number, hi: number, count: number, };

/**
 * How the AI's scores compare with the teacher's on the answers the teacher reviewed.
 */
export type Agreement = { 
/**
 * Answers with both an AI score and the teacher's.
 */
n: number, 
/**
 * Share with the same score (0..1), or null with no pair.
 */
exact: number | null, 
/**
 * Share within one point.
 */
within_one: number | null, 
/**
 * Mean absolute difference in points.
 */
mae: number | null, 
/**
 * Quadratic weighted kappa over the score levels; null when it is undefined (no pair,
 * or every score on one level).
 */
qwk: number | null, 
/**
 * The score levels of the confusion matrix.
 */
levels: Array<number>, 
/**
 * `confusion[a][t]`: answers the AI put on level `a` and the teacher on level `t`.
 */
confusion: Array<Array<number>>, };

/**
 * One question's figures.
 */
export type QuestionStats = { label: string, max_points: number, 
/**
 * Students with a final score for it (blank ones included, at 0).
 */
n: number, mean: number | null, median: number | null, sd: number | null, 
/**
 * Mean over maximum (0..1): how easy the question was.
 */
facility: number | null, 
/**
 * Corrected item-total correlation (−1..1); null with fewer than three complete
 * students or no spread.
 */
discrimination: number | null, 
/**
 * Discrimination below [`LOW_DISCRIMINATION`].
 */
low_discrimination: boolean, 
/**
 * Share of the students who left it blank.
 */
blank_share: number | null, histogram: Array<Bin>, agreement: Agreement, };

/**
 * The whole exam's figures, over the students graded on every question.
 */
export type TotalStats = { n: number, max_points: number, mean: number | null, sd: number | null, 
/**
 * Cronbach's alpha; null with fewer than two questions or no spread.
 */
alpha: number | null, 
/**
 * Ten bars over 0..max points.
 */
histogram: Array<Bin>, };

/**
 * Everything the statistics page and `gradedesk stats` show.
 */
export type ExamStats = { questions: Array<QuestionStats>, exam: TotalStats, };

/**
 * What a region on the template is for.
 */
export type RegionKind = "answer" | "name" | "student_id";

/**
 * A region drawn once on the template: `bbox` in fractions of its template page.
 */
export type Region = { region_id: number, 
/**
 * Template page, from 1.
 */
page: number, kind: RegionKind, 
/**
 * The question an answer region belongs to (None for name and ID regions).
 */
question_label: string | null, question_id: number | null, 
/**
 * Order among the question's regions (its crops go to the model in this order).
 */
position: number, bbox: Bbox, };

/**
 * A page of the file the teacher imported.
 */
export type SourcePage = { file: string, 
/**
 * From 1.
 */
page: number, };

/**
 * How well a page lines up with its template page.
 */
export type Alignment = { 
/**
 * Share of the template's patches found where the fit puts them, 0..1.
 */
quality: number, 
/**
 * Root-mean-square distance between where the fit puts them and where they are, in
 * template pixels.
 */
residual_px: number, 
/**
 * "Check alignment": the teacher should look at this page.
 */
flagged: boolean, };

/**
 * One current answer as the class workflow sees it: where on which imported page it is.
 */
export type ClassItem = { item_id: number, submission_id: number, question_label: string, source: SourcePage, 
/**
 * The page's size in the imported file, in pixels.
 */
source_size: [number, number], 
/**
 * The answer's corners on that page (the region's top-left, top-right, bottom-right,
 * bottom-left), pixel centres at integer coordinates. A hand-drawn box's corners.
 */
source_quad: [[number, number], [number, number], [number, number], [number, number]], 
/**
 * None for pages imported one by one (no template).
 */
alignment: Alignment | null, };

/**
 * A class-import page that belongs to no student, kept and listed.
 */
export type UnassignedPage = { file: string, page: number, reason: string, };

/**
 * What the teacher should look at in a student's pages.
 */
export type FlagKind = "missing_page" | "out_of_order" | "upside_down" | "check_alignment" | "writing_outside";

/**
 * One thing to look at, with the template page it concerns and a sentence.
 */
export type Flag = { kind: FlagKind, 
/**
 * Template page, from 1 (None for the order of the pages).
 */
page: number | null, message: string, };

/**
 * What `template set` did.
 */
export type TemplateSet = { pages: number, };

/**
 * One student of a class import.
 */
export type ClassSubmission = { submission_id: number, student: string, 
/**
 * The imported pages, in template page order (a missing page is left out, and flagged).
 */
source_pages: Array<SourcePage>, flags: Array<Flag>, 
/**
 * Answers queued for grading.
 */
answers: number, };

/**
 * What a class import did: the students, and every page none of them got.
 */
export type ClassImport = { submissions: Array<ClassSubmission>, unassigned: Array<UnassignedPage>, 
/**
 * Sentences about the class as a whole (a template that seems too short, say).
 */
warnings: Array<string>, };

/**
 * A template page as the window shows it: its image comes by `id` through `gdimg`.
 */
export type TemplatePageView = { id: number, 
/**
 * From 1.
 */
number: number, width: number, height: number, };

/**
 * One page of a student in the split review.
 */
export type SplitPage = { page_id: number, 
/**
 * Which template page it is (None: a page imported one by one, no template).
 */
template_page: number | null, source: SourcePage, 
/**
 * The thumbnail's rev, for its `gdimg` URL.
 */
rev: string, width: number, height: number, quality: number | null, residual_px: number | null, flagged: boolean, upside_down: boolean, 
/**
 * Writing outside every region: boxes [x, y, w, h] in template-page fractions.
 */
outside_ink: Array<[number, number, number, number]>, };

/**
 * A page of a class import that no student has, as the split review lists it.
 */
export type LoosePage = { unassigned_id: number, source: SourcePage, reason: string, 
/**
 * Whether it could be read (an unreadable page has no image to show or place).
 */
readable: boolean, };

/**
 * One piece of writing outside every region, as the review shows it: on which page, and
 * where on the page's preview (fractions of the page as stored).
 */
export type OutsideWriting = { page_id: number, 
/**
 * The page's image rev, for its `gdimg` URL.
 */
rev: string, template_page: number, 
/**
 * Its index among the page's pieces (what adding it names).
 */
index: number, 
/**
 * Its bounding box on the page (fractions of the stored page, origin top left).
 */
page_box: Bbox, };

/**
 * What the Template page shows: the blank exam's pages and the regions drawn on them.
 */
export type TemplateView = { pages: Array<TemplatePageView>, regions: Array<Region>, 
/**
 * Students imported against this template (editing a region re-cuts theirs).
 */
students: number, };

/**
 * What editing a region would do: the current answers cut from it, and how many of them
 * are graded (graded again after the edit).
 */
export type RegionImpact = { answers: number, graded: number, };

/**
 * One student in the split review.
 */
export type SplitStudent = { submission_id: number, student: string, 
/**
 * The student's pages, in template page order.
 */
pages: Array<SplitPage>, flags: Array<Flag>, };

/**
 * The split review of an exam's class.
 */
export type SplitReview = { template_pages: number, students: Array<SplitStudent>, 
/**
 * Pages no student has: listed, never dropped.
 */
unassigned: Array<LoosePage>, 
/**
 * Grading waits for the teacher's confirmation.
 */
held: boolean, };

/**
 * How an exam's new answers are graded.
 */
export type GradingMode = "now" | "later";

/**
 * A batch as `batch status` and the window's batch panel show it.
 */
export type BatchSummary = { 
/**
 * Gemini's name (`batches/…`); empty while it is being submitted.
 */
batch: string, exam_id: number, 
/**
 * `submitting`, `pending`, `running`, `succeeded`, `failed`, `cancelled`, `expired`,
 * `abandoned`.
 */
state: string, answers: number, succeeded: number, failed: number, 
/**
 * Milliseconds since the epoch.
 */
created_at: number, ended_at: number | null, 
/**
 * Every result is stored: nothing more will change.
 */
results_stored: boolean, 
/**
 * Estimated dollars at the batch price (None: the model has no price).
 */
cost_estimated: number | null, 
/**
 * What the stored grades of this batch cost at the batch price (from `usageMetadata`).
 */
cost_actual: number | null, 
/**
 * Why the batch ended without every grade, if it did.
 */
error: string | null, };

/**
 * What a batch is estimated to cost before it is sent.
 */
export type SendEstimate = { input_tokens: number, 
/**
 * Answer and thinking tokens.
 */
output_tokens: number, 
/**
 * Dollars at the online price (None: the model has no price).
 */
cost_online: number | null, 
/**
 * Dollars at the batch price.
 */
cost_batch: number | null, };

/**
 * The estimate the teacher sees before sending: how many answers and what they cost.
 */
export type BatchPreview = { exam_id: number, answers: number, estimate: SendEstimate, 
/**
 * Answers whose crop could not be read (they stay waiting).
 */
unreadable: number, };

/**
 * A batch just sent (`batch send` prints it).
 */
export type BatchSent = { 
/**
 * Gemini's name for it, `batches/…`.
 */
batch: string, answers: number, estimate: SendEstimate, };

/**
 * One exam's grading mode and its answers waiting for a batch or in one.
 */
export type ExamBatching = { exam_id: number, mode: GradingMode, 
/**
 * Answers waiting for the next batch.
 */
waiting: number, 
/**
 * Answers sent in a batch whose results are not in yet.
 */
in_batch: number, };

/**
 * What the window's batch panel shows: each exam's mode and counts, and every batch.
 */
export type BatchOverview = { exams: Array<ExamBatching>, batches: Array<BatchSummary>, };
