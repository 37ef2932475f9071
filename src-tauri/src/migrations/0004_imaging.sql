-- Imaging (issue 5): thumbnails, what import measured about each page, and the
-- enhancement (UPSCALE_SUBMISSION) state. Pages imported before this keep working:
-- they have no thumbnail and need no enhancement.
ALTER TABLE pages ADD COLUMN thumb_path TEXT;
-- Effective resolution (pixels per inch of paper) and text-line angle in degrees.
ALTER TABLE pages ADD COLUMN dpi REAL;
ALTER TABLE pages ADD COLUMN skew_deg REAL;
-- 'pending': crops wait for the enhanced page; 'done': path is the enhanced page and
-- original_path the page as imported.
ALTER TABLE pages ADD COLUMN enhancement TEXT NOT NULL DEFAULT 'none'
    CHECK (enhancement IN ('none', 'pending', 'done'));
ALTER TABLE pages ADD COLUMN original_path TEXT;
CREATE INDEX pages_pending_enhancement ON pages(submission_id) WHERE enhancement = 'pending';
