-- The class workflow: an exam's blank template, the regions drawn on it once, and where
-- each student's page came from and how it lines up with its template page.

-- One page of an exam's template (the blank exam), numbered from 1.
CREATE TABLE template_pages (
    id           INTEGER PRIMARY KEY,
    exam_id      INTEGER NOT NULL REFERENCES exams(id) ON DELETE CASCADE,
    number       INTEGER NOT NULL CHECK (number >= 1),
    path         TEXT NOT NULL,
    preview_path TEXT NOT NULL,
    thumb_path   TEXT,
    width        INTEGER NOT NULL CHECK (width > 0),
    height       INTEGER NOT NULL CHECK (height > 0),
    UNIQUE (exam_id, number)
);

-- A region drawn on a template page: a question's answer (a question may have several,
-- graded together in `position` order), or where the student writes their name or ID.
CREATE TABLE regions (
    id          INTEGER PRIMARY KEY,
    exam_id     INTEGER NOT NULL REFERENCES exams(id) ON DELETE CASCADE,
    page_number INTEGER NOT NULL CHECK (page_number >= 1),
    kind        TEXT NOT NULL CHECK (kind IN ('answer', 'name', 'student_id')),
    question_id INTEGER REFERENCES questions(id) ON DELETE CASCADE,
    position    INTEGER NOT NULL DEFAULT 0,
    x REAL NOT NULL, y REAL NOT NULL, w REAL NOT NULL, h REAL NOT NULL,
    created_at  INTEGER NOT NULL,
    CHECK ((kind = 'answer') = (question_id IS NOT NULL)),
    CHECK (x >= 0 AND y >= 0 AND w > 0 AND h > 0 AND x + w <= 1.000001 AND y + h <= 1.000001)
);
CREATE INDEX regions_by_exam ON regions(exam_id, page_number);

-- Where a student's page came from (the imported file and its page, from 1), which
-- template page it is, and the fitted transform (JSON 3x3, template pixels to this page's
-- pixels) with its quality.
ALTER TABLE pages ADD COLUMN source_file TEXT;
ALTER TABLE pages ADD COLUMN source_page INTEGER;
ALTER TABLE pages ADD COLUMN template_page INTEGER;
ALTER TABLE pages ADD COLUMN homography TEXT;
ALTER TABLE pages ADD COLUMN align_quality REAL;
ALTER TABLE pages ADD COLUMN align_residual_px REAL;
ALTER TABLE pages ADD COLUMN align_flagged INTEGER NOT NULL DEFAULT 0;
ALTER TABLE pages ADD COLUMN upside_down INTEGER NOT NULL DEFAULT 0;
-- Writing found outside every region of the page (JSON list of boxes in template-page
-- fractions); NULL when there is none.
ALTER TABLE pages ADD COLUMN outside_ink TEXT;

-- An answer cut from the template's regions: the quad of its first region on the page
-- (JSON [[x, y] x4], pixel centres) and how many regions it joins.
ALTER TABLE items ADD COLUMN from_template INTEGER NOT NULL DEFAULT 0;
ALTER TABLE items ADD COLUMN source_quad TEXT;

-- A page of a class import that belongs to no student (blank, another exam, unreadable):
-- kept and listed, never dropped.
CREATE TABLE unassigned_pages (
    id           INTEGER PRIMARY KEY,
    exam_id      INTEGER NOT NULL REFERENCES exams(id) ON DELETE CASCADE,
    source_file  TEXT NOT NULL,
    source_page  INTEGER NOT NULL,
    reason       TEXT NOT NULL,
    path         TEXT,
    width        INTEGER,
    height       INTEGER,
    created_at   INTEGER NOT NULL
);
