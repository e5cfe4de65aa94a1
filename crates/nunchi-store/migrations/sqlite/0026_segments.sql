-- Segments: a rule (JSON, nunchi_core::segment::Rule) or a fixed list, the customers in
-- each now, and every entry and exit with its time and reason, from which a segment's
-- size over time is drawn and campaigns learn who entered or left.

CREATE TABLE segments (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    -- live: members follow the rule; static: a fixed list (imported or frozen).
    kind TEXT NOT NULL CHECK (kind IN ('live', 'static')),
    rule TEXT NOT NULL,
    members BIGINT NOT NULL DEFAULT 0,
    evaluated_at BIGINT,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX segments_by_name ON segments (name);

CREATE TABLE segment_members (
    segment_id BIGINT NOT NULL REFERENCES segments(id) ON DELETE CASCADE,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    since BIGINT NOT NULL,
    PRIMARY KEY (segment_id, customer_id)
);
CREATE INDEX segment_members_by_customer ON segment_members (customer_id);

CREATE TABLE segment_changes (
    id INTEGER PRIMARY KEY,
    segment_id BIGINT NOT NULL REFERENCES segments(id) ON DELETE CASCADE,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    entered BOOLEAN NOT NULL,
    at BIGINT NOT NULL,
    reason TEXT NOT NULL
);
CREATE INDEX segment_changes_by_segment ON segment_changes (segment_id, at);
CREATE INDEX segment_changes_by_customer ON segment_changes (customer_id);
