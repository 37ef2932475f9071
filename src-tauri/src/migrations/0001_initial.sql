-- GradeDesk schema, version 1. Forward-only: later changes go in new files.
CREATE TABLE exams (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL CHECK (length(trim(name)) > 0),
    created_at  INTEGER NOT NULL
);

CREATE TABLE questions (
    id               INTEGER PRIMARY KEY,
    exam_id          INTEGER NOT NULL REFERENCES exams(id) ON DELETE CASCADE,
    position         INTEGER NOT NULL,
    label            TEXT NOT NULL CHECK (length(trim(label)) > 0),
    prompt           TEXT NOT NULL,
    max_points       REAL NOT NULL CHECK (max_points > 0),
    rubric           TEXT NOT NULL DEFAULT '',
    reference_answer TEXT NOT NULL DEFAULT '',
    UNIQUE (exam_id, label)
);

CREATE TABLE submissions (
    id          INTEGER PRIMARY KEY,
    exam_id     INTEGER NOT NULL REFERENCES exams(id) ON DELETE CASCADE,
    student     TEXT NOT NULL,
    file_name   TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX submissions_by_exam ON submissions(exam_id);

CREATE TABLE pages (
    id            INTEGER PRIMARY KEY,
    submission_id INTEGER NOT NULL REFERENCES submissions(id) ON DELETE CASCADE,
    number        INTEGER NOT NULL CHECK (number >= 1),
    path          TEXT NOT NULL,
    preview_path  TEXT NOT NULL,
    width         INTEGER NOT NULL CHECK (width > 0),
    height        INTEGER NOT NULL CHECK (height > 0),
    UNIQUE (submission_id, number)
);

-- An answer region: the box the teacher drew, and the crop made from it.
CREATE TABLE items (
    id            INTEGER PRIMARY KEY,
    submission_id INTEGER NOT NULL REFERENCES submissions(id) ON DELETE CASCADE,
    page_id       INTEGER NOT NULL REFERENCES pages(id) ON DELETE CASCADE,
    question_id   INTEGER NOT NULL REFERENCES questions(id) ON DELETE CASCADE,
    x REAL NOT NULL, y REAL NOT NULL, w REAL NOT NULL, h REAL NOT NULL,
    crop_path     TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    superseded_at INTEGER,
    CHECK (x >= 0 AND y >= 0 AND w > 0 AND h > 0 AND x + w <= 1.000001 AND y + h <= 1.000001)
);
-- One current answer per student and question; a re-crop supersedes the old one.
CREATE UNIQUE INDEX items_current ON items(submission_id, question_id) WHERE superseded_at IS NULL;

CREATE TABLE jobs (
    id               INTEGER PRIMARY KEY,
    kind             TEXT NOT NULL CHECK (kind IN ('GRADE_ITEM', 'UPSCALE_SUBMISSION')),
    item_id          INTEGER REFERENCES items(id) ON DELETE CASCADE,
    submission_id    INTEGER REFERENCES submissions(id) ON DELETE CASCADE,
    state            TEXT NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'dead', 'cancelled')),
    priority         INTEGER NOT NULL DEFAULT 0,
    attempts         INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts     INTEGER NOT NULL DEFAULT 5 CHECK (max_attempts >= 1),
    run_at           INTEGER NOT NULL,
    lease_owner      TEXT,
    lease_expires_at INTEGER,
    last_error       TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    finished_at      INTEGER,
    CHECK ((state = 'running') = (lease_owner IS NOT NULL AND lease_expires_at IS NOT NULL)),
    CHECK ((state IN ('succeeded', 'dead', 'cancelled')) = (finished_at IS NOT NULL)),
    CHECK (attempts <= max_attempts),
    CHECK (kind <> 'GRADE_ITEM' OR item_id IS NOT NULL),
    CHECK (kind <> 'UPSCALE_SUBMISSION' OR submission_id IS NOT NULL)
);
-- Dedupe: at most one live grading job per answer.
CREATE UNIQUE INDEX jobs_one_active_grade ON jobs(item_id)
    WHERE kind = 'GRADE_ITEM' AND state IN ('queued', 'running');
CREATE INDEX jobs_ready ON jobs(priority DESC, run_at, id) WHERE state = 'queued';
CREATE INDEX jobs_leases ON jobs(lease_expires_at) WHERE state = 'running';
CREATE INDEX jobs_by_item ON jobs(item_id);

-- The AI grade of an answer. UNIQUE(item_id) makes a second grade for one answer impossible.
CREATE TABLE grades (
    id              INTEGER PRIMARY KEY,
    item_id         INTEGER NOT NULL UNIQUE REFERENCES items(id) ON DELETE CASCADE,
    job_id          INTEGER REFERENCES jobs(id),
    score           REAL NOT NULL,
    max_points      REAL NOT NULL,
    feedback        TEXT NOT NULL,
    transcription   TEXT NOT NULL,
    confidence      REAL,
    needs_review    INTEGER NOT NULL DEFAULT 0,
    review_reason   TEXT,
    model           TEXT NOT NULL,
    prompt_tokens   INTEGER,
    output_tokens   INTEGER,
    thoughts_tokens INTEGER,
    created_at      INTEGER NOT NULL,
    CHECK (score >= 0 AND score <= max_points)
);
