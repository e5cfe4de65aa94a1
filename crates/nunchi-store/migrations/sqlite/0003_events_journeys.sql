-- Touchpoint events (Segment-compatible ingest) and the journey map: stages and the
-- touchpoints that belong to them. Anonymous ids are stitched to customers as
-- `anonymous_id` identities in customer_identities.

CREATE TABLE event_sources (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    write_key_hash TEXT NOT NULL UNIQUE,
    write_key_prefix TEXT NOT NULL,
    -- Channel for events that name none (a store POS source says "store").
    channel TEXT,
    created_at BIGINT NOT NULL
);

-- Append-only, in arrival order. Deliberately no secondary index: every index costs the
-- ingest path a random B-tree insert per event (SQLite fell from ~300k to ~53k rows/s with
-- one). Queries go to the in-memory analytics engine, which is rebuilt from this table
-- in id order at start-up; duplicates are caught in memory within the dedup window.
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    source_id BIGINT NOT NULL,
    message_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    customer_id BIGINT,
    user_id TEXT,
    anonymous_id TEXT,
    channel TEXT NOT NULL,
    ts BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    properties TEXT NOT NULL,
    context TEXT NOT NULL
);

CREATE TABLE journey_stages (
    id INTEGER PRIMARY KEY,
    position BIGINT NOT NULL,
    key TEXT NOT NULL UNIQUE,
    name_ko TEXT NOT NULL,
    name_en TEXT NOT NULL
);

CREATE TABLE touchpoints (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    channel TEXT NOT NULL,
    event TEXT NOT NULL,
    -- JSON array of {"property", "op", "value"}: all must hold.
    conditions TEXT NOT NULL,
    stage_id BIGINT REFERENCES journey_stages(id) ON DELETE SET NULL,
    -- The team's own expected rating (1–5), set beside customers' scores for the gap.
    expected_rating DOUBLE PRECISION,
    created_at BIGINT NOT NULL
);

INSERT INTO journey_stages (position, key, name_ko, name_en) VALUES
    (1, 'awareness', '인지', 'Awareness'),
    (2, 'consideration', '고려', 'Consideration'),
    (3, 'purchase', '구매', 'Purchase'),
    (4, 'delivery', '배송', 'Delivery'),
    (5, 'use', '사용', 'Use'),
    (6, 'support', '지원', 'Support'),
    (7, 'loyalty', '충성·추천', 'Loyalty & advocacy');
