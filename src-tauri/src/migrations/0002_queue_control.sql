-- Queue control: pauses that every process honours, and the exam of each job so one exam
-- can be paused without scanning items.
CREATE TABLE queue_pauses (
    scope      TEXT PRIMARY KEY CHECK (scope = 'all' OR scope GLOB 'exam:[0-9]*'),
    exam_id    INTEGER REFERENCES exams(id) ON DELETE CASCADE,
    reason     TEXT NOT NULL,
    -- NULL: until the teacher resumes; else resumes by itself then (a daily quota's reset).
    until_ms   INTEGER,
    created_at INTEGER NOT NULL,
    CHECK ((scope = 'all') = (exam_id IS NULL))
);

ALTER TABLE jobs ADD COLUMN exam_id INTEGER REFERENCES exams(id) ON DELETE CASCADE;
UPDATE jobs SET exam_id = (SELECT s.exam_id FROM items i JOIN submissions s ON s.id = i.submission_id WHERE i.id = jobs.item_id)
    WHERE item_id IS NOT NULL;
UPDATE jobs SET exam_id = (SELECT s.exam_id FROM submissions s WHERE s.id = jobs.submission_id)
    WHERE item_id IS NULL AND submission_id IS NOT NULL;
CREATE INDEX jobs_by_exam ON jobs(exam_id, state);
-- Completion times, for rate and ETA.
CREATE INDEX jobs_finished ON jobs(finished_at) WHERE state = 'succeeded';
