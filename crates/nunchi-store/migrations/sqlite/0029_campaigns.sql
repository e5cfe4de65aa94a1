-- Campaigns and every message they (and the rest of nunchi) send a customer. A delivery
-- row is written, under the customer's lock, by the contact budget's decision: queued,
-- held until a quiet window ends, suppressed with its reason, or held out as control;
-- the sender moves it on to sent, delivered or failed. The budget counts the rows that
-- reached or will reach the customer, so a failed send gives its slot back.

CREATE TABLE campaigns (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    -- one_off (a single send to an audience) or programme (runs on a trigger).
    kind TEXT NOT NULL,
    -- marketing, service or survey (nunchi_core::contact::MessageKind).
    message_kind TEXT NOT NULL,
    -- draft, active, paused or done.
    status TEXT NOT NULL,
    -- What starts a send, as JSON (nunchi_app::campaigns::Trigger).
    trigger_spec TEXT NOT NULL,
    segment_id BIGINT REFERENCES segments(id) ON DELETE SET NULL,
    -- Channels in fallback order, comma-separated (email,sms,kakao_brand).
    channels TEXT NOT NULL,
    priority BIGINT NOT NULL,
    dedup_key TEXT,
    -- Per language: subject and body, as JSON.
    templates TEXT NOT NULL,
    -- Per cent of the audience held out as a control group.
    holdout_pct BIGINT NOT NULL,
    goal_event TEXT,
    goal_days BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    launched_at BIGINT
);

CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY,
    campaign_id BIGINT REFERENCES campaigns(id) ON DELETE CASCADE,
    customer_id BIGINT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    -- What fired it: 'once' for a one-off send, an event id, a date: one row per firing.
    occurrence TEXT NOT NULL,
    kind TEXT NOT NULL,
    via TEXT,
    dedup TEXT,
    -- 'control' for the held-out group, else the message variant.
    variant TEXT NOT NULL,
    -- queued, held, sent, delivered, failed, suppressed, held_out.
    status TEXT NOT NULL,
    reason TEXT,
    due_at BIGINT NOT NULL,
    sent_at BIGINT,
    attempts BIGINT NOT NULL,
    error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (campaign_id, customer_id, occurrence)
);
CREATE INDEX deliveries_customer ON deliveries (customer_id, due_at);
CREATE INDEX deliveries_due ON deliveries (status, due_at);
