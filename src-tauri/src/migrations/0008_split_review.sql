-- The split review: a page no student got keeps all the files import wrote, so the
-- teacher can see it and place it on a student (who then needs its preview and thumbnail).
ALTER TABLE unassigned_pages ADD COLUMN preview_path TEXT;
ALTER TABLE unassigned_pages ADD COLUMN thumb_path TEXT;
