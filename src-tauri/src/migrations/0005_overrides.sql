-- The teacher's score for an answer (issue #6). Append-only: every override is kept, the
-- newest is the one that counts, so an answer's history reads AI grade, then each override.
CREATE TABLE overrides (
    id         INTEGER PRIMARY KEY,
    item_id    INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    score      REAL NOT NULL CHECK (score >= 0),
    note       TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX overrides_item ON overrides(item_id, id);
