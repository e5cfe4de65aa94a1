-- The closed loop: rules that open a follow-up for feedback that needs one, and the
-- follow-ups themselves, tracked to closure.

-- When the rules last looked at this feedback (after its text was annotated).
ALTER TABLE feedback ADD COLUMN looped_at BIGINT;

CREATE TABLE loop_rules (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    -- Conditions, all that are set must hold: normalised score at most, text sentiment
    -- at most, a topic label mentioned, a source.
    max_score REAL,
    max_sentiment REAL,
    topic TEXT,
    source TEXT,
    owner_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    due_hours BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE follow_ups (
    id INTEGER PRIMARY KEY,
    feedback_id BIGINT NOT NULL REFERENCES feedback(id),
    rule_id BIGINT REFERENCES loop_rules(id) ON DELETE SET NULL,
    owner_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    -- open or closed
    status TEXT NOT NULL,
    due_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    closed_at BIGINT,
    resolution TEXT
);

CREATE UNIQUE INDEX follow_ups_once ON follow_ups (feedback_id, rule_id);
CREATE INDEX follow_ups_status ON follow_ups (status, due_at);
CREATE INDEX feedback_unlooped ON feedback (id) WHERE looped_at IS NULL;
