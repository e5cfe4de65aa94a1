-- The closed loop acts and reports: rules notify by e-mail and signed webhook, follow-ups
-- carry notes, outbound webhooks announce new feedback, and root-cause items group
-- negative feedback by topic for the outer loop.

ALTER TABLE loop_rules ADD COLUMN notify_email TEXT;
ALTER TABLE loop_rules ADD COLUMN notify_webhook BOOLEAN NOT NULL DEFAULT FALSE;
-- The low end of the score band (the high end is max_score).
ALTER TABLE loop_rules ADD COLUMN min_score REAL;
-- A segment condition: only feedback from customers with this tag.
ALTER TABLE loop_rules ADD COLUMN tag TEXT;

CREATE TABLE follow_up_notes (
    id INTEGER PRIMARY KEY,
    follow_up_id BIGINT NOT NULL REFERENCES follow_ups(id) ON DELETE CASCADE,
    author_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX follow_up_notes_follow_up ON follow_up_notes (follow_up_id, id);

-- Receivers of outbound webhooks (Standard Webhooks signatures with `secret`).
CREATE TABLE webhooks (
    id INTEGER PRIMARY KEY,
    url TEXT NOT NULL,
    -- whsec_ + base64 of the key
    secret TEXT NOT NULL,
    -- Comma-separated event types: feedback.created, follow_up.opened, root_cause.fixed.
    events TEXT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE root_causes (
    id INTEGER PRIMARY KEY,
    -- The topic key (nunchi-text) whose negative feedback it groups.
    topic TEXT NOT NULL,
    title TEXT NOT NULL,
    -- open or fixed
    status TEXT NOT NULL,
    owner_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    fix_note TEXT,
    -- Affected customers told of the fix, by e-mail.
    notified BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    fixed_at BIGINT
);

CREATE TABLE root_cause_feedback (
    root_cause_id BIGINT NOT NULL REFERENCES root_causes(id) ON DELETE CASCADE,
    feedback_id BIGINT NOT NULL REFERENCES feedback(id) ON DELETE CASCADE,
    PRIMARY KEY (root_cause_id, feedback_id)
);
