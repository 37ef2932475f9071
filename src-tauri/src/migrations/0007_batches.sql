-- Batch Mode (issue #15): an exam graded "later", at half the price, through Gemini's
-- batchGenerateContent. A batch is durable: its remote name, the answers it holds by key,
-- its state, counts, times and costs live here, and one process at a time holds its lease.

-- 'now': cropped answers go to the online workers; 'later': they wait for the next batch.
ALTER TABLE exams ADD COLUMN grading_mode TEXT NOT NULL DEFAULT 'now'
    CHECK (grading_mode IN ('now', 'later'));

CREATE TABLE batches (
    id               INTEGER PRIMARY KEY,
    exam_id          INTEGER NOT NULL REFERENCES exams(id) ON DELETE CASCADE,
    -- Gemini's resource name (batches/...), NULL until the submit was answered.
    name             TEXT UNIQUE,
    -- Sent as the batch's displayName: finds a batch whose submit was answered but whose
    -- name was never stored (the sender died in between).
    display_name     TEXT NOT NULL UNIQUE,
    model            TEXT NOT NULL,
    input            TEXT NOT NULL CHECK (input IN ('inline', 'file')),
    input_file       TEXT,
    -- submitting (local), then Gemini's state without its prefix; 'abandoned' (local): the
    -- submit never reached Gemini and the answers went back to waiting.
    state            TEXT NOT NULL CHECK (state IN ('submitting', 'pending', 'running', 'succeeded',
                                                    'failed', 'cancelled', 'expired', 'abandoned')),
    answers          INTEGER NOT NULL CHECK (answers >= 0),
    succeeded        INTEGER NOT NULL DEFAULT 0,
    failed           INTEGER NOT NULL DEFAULT 0,
    input_tokens     INTEGER NOT NULL DEFAULT 0,
    output_tokens    INTEGER NOT NULL DEFAULT 0,
    cost_online      REAL,
    cost_estimated   REAL,
    -- Why the batch ended without all its grades (Gemini's error, expiry, a cancel).
    error            TEXT,
    -- 1 when inline results came back without their keys and were matched by position.
    matched_by_position INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    ended_at         INTEGER,
    results_stored_at INTEGER,
    next_poll_at     INTEGER NOT NULL,
    poll_interval_ms INTEGER NOT NULL,
    lease_owner      TEXT,
    lease_expires_at INTEGER,
    CHECK ((lease_owner IS NULL) = (lease_expires_at IS NULL))
);
CREATE INDEX batches_open ON batches(next_poll_at) WHERE results_stored_at IS NULL;

-- One answer of a batch: the key sent in its request's metadata, the job it grades, and
-- what became of its result (NULL until stored: exactly once, whoever processes it).
CREATE TABLE batch_requests (
    batch_id INTEGER NOT NULL REFERENCES batches(id) ON DELETE CASCADE,
    key      TEXT NOT NULL,
    job_id   INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    item_id  INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    outcome  TEXT CHECK (outcome IN ('graded', 'waiting', 'refused', 'skipped')),
    reason   TEXT,
    PRIMARY KEY (batch_id, key),
    UNIQUE (batch_id, position)
);

-- A grading job's channel: 'online' (the workers claim it) or 'batch' (it waits for a
-- batch; batch_id names the batch it was sent in, NULL while it waits for the next one).
ALTER TABLE jobs ADD COLUMN channel TEXT NOT NULL DEFAULT 'online'
    CHECK (channel IN ('online', 'batch'));
ALTER TABLE jobs ADD COLUMN batch_id INTEGER REFERENCES batches(id);
CREATE INDEX jobs_batch_waiting ON jobs(exam_id) WHERE channel = 'batch' AND state = 'queued';
