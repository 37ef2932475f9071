-- Grading (issue #4): what each grade cost, the editable price table it is computed from,
-- and the non-secret grading settings. The API key is never stored here.

-- Dollars per million tokens, by model id prefix; the longest matching prefix applies.
-- Thinking tokens are billed as output. Defaults are Google's paid-tier list prices for
-- prompts under 200k tokens; the teacher edits them when Google changes them.
CREATE TABLE model_prices (
    model_prefix    TEXT PRIMARY KEY CHECK (length(trim(model_prefix)) > 0),
    input_per_mtok  REAL NOT NULL CHECK (input_per_mtok >= 0),
    output_per_mtok REAL NOT NULL CHECK (output_per_mtok >= 0),
    updated_at      INTEGER NOT NULL
);
INSERT INTO model_prices (model_prefix, input_per_mtok, output_per_mtok, updated_at) VALUES
    ('gemini-2.0-flash',       0.10,  0.40, 0),
    ('gemini-2.0-flash-lite',  0.075, 0.30, 0),
    ('gemini-2.5-flash',       0.30,  2.50, 0),
    ('gemini-2.5-flash-lite',  0.10,  0.40, 0),
    ('gemini-2.5-pro',         1.25, 10.00, 0),
    ('gemini-3-flash',         0.50,  3.00, 0),
    ('gemini-3-pro',           2.00, 12.00, 0);

-- The cost of a grade, fixed when it is stored (a later price change does not rewrite it).
-- NULL when the model has no price (a local model, an unknown id).
ALTER TABLE grades ADD COLUMN cost_usd REAL;

CREATE TRIGGER grades_cost AFTER INSERT ON grades
WHEN NEW.cost_usd IS NULL
BEGIN
    UPDATE grades SET cost_usd = (
        SELECT (coalesce(NEW.prompt_tokens, 0) * p.input_per_mtok
                + (coalesce(NEW.output_tokens, 0) + coalesce(NEW.thoughts_tokens, 0)) * p.output_per_mtok)
               / 1000000.0
        FROM model_prices p
        WHERE NEW.model LIKE p.model_prefix || '%'
        ORDER BY length(p.model_prefix) DESC LIMIT 1)
    WHERE id = NEW.id;
END;

-- Non-secret settings as JSON values (model, provider, base URLs, concurrency, limits).
CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
