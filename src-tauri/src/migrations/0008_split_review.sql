-- The split review: a page no student got keeps all the files import wrote, so the
-- teacher can see it and place it on a student (who then needs its preview and thumbnail).
ALTER TABLE unassigned_pages ADD COLUMN preview_path TEXT;
ALTER TABLE unassigned_pages ADD COLUMN thumb_path TEXT;

-- Writing found outside every region that the teacher added to one student's answer: an
-- extra area of a template page, cut with the question's regions whenever its answer is
-- cut again (in template-page fractions).
CREATE TABLE answer_extras (
    id            INTEGER PRIMARY KEY,
    submission_id INTEGER NOT NULL REFERENCES submissions(id) ON DELETE CASCADE,
    question_id   INTEGER NOT NULL REFERENCES questions(id) ON DELETE CASCADE,
    template_page INTEGER NOT NULL CHECK (template_page >= 1),
    x REAL NOT NULL, y REAL NOT NULL, w REAL NOT NULL, h REAL NOT NULL,
    created_at    INTEGER NOT NULL
);
CREATE INDEX answer_extras_by_student ON answer_extras(submission_id, question_id);
