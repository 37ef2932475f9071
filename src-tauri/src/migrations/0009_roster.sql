-- The class roster, the names read from each script, and which roster entry each script
-- belongs to.

-- One student of an exam's roster, as the school's file gave them. `roster_id` is what
-- the teacher and the exports name them by: the school's student ID when the file has one,
-- else the LMS's ID, else the email, else a number GradeDesk gave.
CREATE TABLE roster_entries (
    id          INTEGER PRIMARY KEY,
    exam_id     INTEGER NOT NULL REFERENCES exams(id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    roster_id   TEXT NOT NULL CHECK (length(trim(roster_id)) > 0),
    last_name   TEXT NOT NULL,
    first_name  TEXT NOT NULL,
    student_id  TEXT,
    lms_id      TEXT,
    login       TEXT,
    email       TEXT,
    section     TEXT,
    created_at  INTEGER NOT NULL,
    CHECK (length(trim(last_name || first_name)) > 0),
    UNIQUE (exam_id, roster_id)
);

-- What the model read in a script's name and ID boxes (one row per script, replaced when
-- read again).
CREATE TABLE name_reads (
    submission_id INTEGER PRIMARY KEY REFERENCES submissions(id) ON DELETE CASCADE,
    read_name     TEXT NOT NULL,
    read_id       TEXT NOT NULL,
    confidence    REAL,
    model         TEXT NOT NULL,
    created_at    INTEGER NOT NULL
);

-- The crop of a script's name (and ID) boxes that the name-reading job sends; the name
-- the scan had before a roster entry was given to it (put back when it is unmatched);
-- the roster entry, how it was decided ('auto': the class matching, 'confirmed': the
-- teacher; 'none': the teacher said it is nobody on the roster) and its confidence.
ALTER TABLE submissions ADD COLUMN name_crop_path TEXT;
ALTER TABLE submissions ADD COLUMN id_crop_path TEXT;
ALTER TABLE submissions ADD COLUMN placeholder TEXT;
ALTER TABLE submissions ADD COLUMN roster_entry_id INTEGER REFERENCES roster_entries(id) ON DELETE SET NULL;
ALTER TABLE submissions ADD COLUMN match_status TEXT CHECK (match_status IN ('auto', 'confirmed', 'none'));
ALTER TABLE submissions ADD COLUMN match_confidence REAL;
-- The class matching's best guess for a script it did not match by itself (what the
-- matching screen preselects), with match_confidence its similarity.
ALTER TABLE submissions ADD COLUMN suggested_entry_id INTEGER REFERENCES roster_entries(id) ON DELETE SET NULL;
-- No roster entry is ever given two scripts.
CREATE UNIQUE INDEX submissions_one_per_entry ON submissions(roster_entry_id)
    WHERE roster_entry_id IS NOT NULL;

-- The queue gains READ_NAME (read a script's name and ID boxes). SQLite cannot change a
-- CHECK in place, so the table is rebuilt (the store runs this step with foreign keys off
-- and checks them before it commits).
CREATE TABLE jobs_new (
    id               INTEGER PRIMARY KEY,
    kind             TEXT NOT NULL CHECK (kind IN ('GRADE_ITEM', 'UPSCALE_SUBMISSION', 'READ_NAME')),
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
    exam_id          INTEGER REFERENCES exams(id) ON DELETE CASCADE,
    channel          TEXT NOT NULL DEFAULT 'online' CHECK (channel IN ('online', 'batch')),
    batch_id         INTEGER REFERENCES batches(id),
    CHECK ((state = 'running') = (lease_owner IS NOT NULL AND lease_expires_at IS NOT NULL)),
    CHECK ((state IN ('succeeded', 'dead', 'cancelled')) = (finished_at IS NOT NULL)),
    CHECK (attempts <= max_attempts),
    CHECK (kind <> 'GRADE_ITEM' OR item_id IS NOT NULL),
    CHECK (kind NOT IN ('UPSCALE_SUBMISSION', 'READ_NAME') OR submission_id IS NOT NULL)
);
INSERT INTO jobs_new (id, kind, item_id, submission_id, state, priority, attempts, max_attempts,
                      run_at, lease_owner, lease_expires_at, last_error, created_at, updated_at,
                      finished_at, exam_id, channel, batch_id)
    SELECT id, kind, item_id, submission_id, state, priority, attempts, max_attempts,
           run_at, lease_owner, lease_expires_at, last_error, created_at, updated_at,
           finished_at, exam_id, channel, batch_id
    FROM jobs;
DROP TABLE jobs;
ALTER TABLE jobs_new RENAME TO jobs;
CREATE UNIQUE INDEX jobs_one_active_grade ON jobs(item_id)
    WHERE kind = 'GRADE_ITEM' AND state IN ('queued', 'running');
-- At most one live name reading per script.
CREATE UNIQUE INDEX jobs_one_active_read ON jobs(submission_id)
    WHERE kind = 'READ_NAME' AND state IN ('queued', 'running');
CREATE INDEX jobs_ready ON jobs(priority DESC, run_at, id) WHERE state = 'queued';
CREATE INDEX jobs_leases ON jobs(lease_expires_at) WHERE state = 'running';
CREATE INDEX jobs_by_item ON jobs(item_id);
CREATE INDEX jobs_by_exam ON jobs(exam_id, state);
CREATE INDEX jobs_finished ON jobs(finished_at) WHERE state = 'succeeded';
CREATE INDEX jobs_batch_waiting ON jobs(exam_id) WHERE channel = 'batch' AND state = 'queued';
