-- Rubric items the core scores (issue #17): items per question, which items the model and
-- the teacher applied to each answer, the teacher's corrected transcription, a second
-- grading's opinion, and each exam's review routing.

-- How a question's items count: `positive` starts at 0 and adds each applied item's points,
-- `negative` starts at the maximum and adds them (deductions are negative points). Either
-- way the score is bounded to 0..max_points.
ALTER TABLE questions ADD COLUMN scoring TEXT NOT NULL DEFAULT 'positive'
    CHECK (scoring IN ('positive', 'negative'));

-- One rubric item. Deleted items stay (soft) so the answers that had them keep a record;
-- a deleted item counts for nothing.
CREATE TABLE rubric_items (
    id          INTEGER PRIMARY KEY,
    question_id INTEGER NOT NULL REFERENCES questions(id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    text        TEXT NOT NULL CHECK (length(trim(text)) > 0),
    points      REAL NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    deleted_at  INTEGER
);
CREATE INDEX rubric_items_question ON rubric_items(question_id, position);

-- The items the model applied to an answer, with the words of its transcription it quoted.
CREATE TABLE grade_items (
    item_id        INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    rubric_item_id INTEGER NOT NULL REFERENCES rubric_items(id),
    evidence       TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (item_id, rubric_item_id)
);
CREATE INDEX grade_items_rubric ON grade_items(rubric_item_id);

-- What a teacher's decision was: a typed score, a set of items (`items`, a JSON array of
-- rubric item ids, whose score the core computes and re-computes when an item changes),
-- or the AI's grade accepted as it is.
ALTER TABLE overrides ADD COLUMN kind TEXT NOT NULL DEFAULT 'score'
    CHECK (kind IN ('score', 'items', 'accept'));
ALTER TABLE overrides ADD COLUMN items TEXT;

-- What the core flagged on its own (an answer addressing the grader, full marks for an
-- empty answer), whatever the model said.
ALTER TABLE grades ADD COLUMN core_flag TEXT;

-- The transcription as the teacher corrected it (the model's stays in `grades`).
CREATE TABLE transcript_edits (
    item_id    INTEGER PRIMARY KEY REFERENCES items(id) ON DELETE CASCADE,
    text       TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);

-- The second grading of a double-graded answer: its score, items and transcription.
CREATE TABLE second_opinions (
    item_id       INTEGER PRIMARY KEY REFERENCES items(id) ON DELETE CASCADE,
    score         REAL NOT NULL,
    items         TEXT NOT NULL DEFAULT '[]',
    transcription TEXT NOT NULL DEFAULT '',
    feedback      TEXT NOT NULL DEFAULT '',
    model         TEXT NOT NULL,
    created_at    INTEGER NOT NULL
);

-- Review routing per exam: auto-accept is off until the teacher turns it on; then an answer
-- is accepted without review only when its confidence reaches the threshold and its
-- question's measured agreement (exact, on at least 10 reviewed answers) reaches the target.
ALTER TABLE exams ADD COLUMN auto_accept INTEGER NOT NULL DEFAULT 0;
ALTER TABLE exams ADD COLUMN confidence_threshold REAL NOT NULL DEFAULT 0.8
    CHECK (confidence_threshold >= 0 AND confidence_threshold <= 1);
ALTER TABLE exams ADD COLUMN agreement_target REAL NOT NULL DEFAULT 0.9
    CHECK (agreement_target >= 0 AND agreement_target <= 1);
ALTER TABLE exams ADD COLUMN double_grading INTEGER NOT NULL DEFAULT 0;

-- Whether a grade's score is the core's sum of rubric items (so an item edit re-scores it).
ALTER TABLE grades ADD COLUMN from_items INTEGER NOT NULL DEFAULT 0;
