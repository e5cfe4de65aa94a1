-- SLA policies for the support desk, the deadlines each conversation is held to, and the
-- breaches recorded when one passes unmet.

CREATE TABLE sla_policies (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    -- Which conversations it covers: NULL matches any team / any priority.
    team_id BIGINT REFERENCES teams(id) ON DELETE CASCADE,
    priority TEXT,
    -- Targets in working minutes; NULL: not measured.
    first_response_minutes BIGINT,
    next_response_minutes BIGINT,
    resolution_minutes BIGINT,
    -- NULL: calendar hours; otherwise a weekly schedule (mon-fri 09:00-18:00).
    business_hours TEXT,
    time_zone TEXT NOT NULL,
    korean_holidays INTEGER NOT NULL DEFAULT 1,
    -- Extra days off, comma-separated ISO dates.
    holidays TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);

ALTER TABLE conversations ADD COLUMN sla_policy_id BIGINT REFERENCES sla_policies(id) ON DELETE SET NULL;
ALTER TABLE conversations ADD COLUMN first_response_due_at BIGINT;
ALTER TABLE conversations ADD COLUMN next_response_due_at BIGINT;
ALTER TABLE conversations ADD COLUMN resolution_due_at BIGINT;
-- While the conversation waits on the customer (pending), the resolution clock stops and
-- keeps the working minutes it had left here.
ALTER TABLE conversations ADD COLUMN resolution_left_minutes BIGINT;

CREATE TABLE sla_breaches (
    id INTEGER PRIMARY KEY,
    conversation_id BIGINT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    -- first_response, next_response, resolution
    metric TEXT NOT NULL,
    due_at BIGINT NOT NULL,
    breached_at BIGINT NOT NULL,
    UNIQUE (conversation_id, metric, due_at)
);
CREATE INDEX sla_breaches_by_time ON sla_breaches (breached_at);
