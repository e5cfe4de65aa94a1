-- Surveys and their distribution: the questions, each response (kept when partial), every
-- attempt to reach a person (sent, shown or suppressed with the reason), and the brand's
-- settings such as the global survey cap.

CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE surveys (
    id INTEGER PRIMARY KEY,
    -- The public link's token: /s/{key}.
    key TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    -- draft, active or closed
    status TEXT NOT NULL,
    -- survey (customers) or employee (pulse surveys)
    audience TEXT NOT NULL,
    -- JSON array of questions (nunchi_core::survey::Question).
    questions TEXT NOT NULL,
    touchpoint_id BIGINT REFERENCES touchpoints(id) ON DELETE SET NULL,
    stage_id BIGINT REFERENCES journey_stages(id) ON DELETE SET NULL,
    team_id BIGINT REFERENCES teams(id) ON DELETE SET NULL,
    -- Event-triggered e-mail: this event, this many hours later.
    trigger_event TEXT,
    trigger_delay_hours BIGINT NOT NULL DEFAULT 0,
    sample_rate REAL NOT NULL DEFAULT 1,
    min_days BIGINT NOT NULL DEFAULT 0,
    -- once, until_answered or always
    repeat TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE survey_responses (
    id INTEGER PRIMARY KEY,
    survey_id BIGINT NOT NULL REFERENCES surveys(id) ON DELETE CASCADE,
    -- The respondent's own token, in their link or widget: resumes a partial response.
    token TEXT NOT NULL UNIQUE,
    customer_id BIGINT REFERENCES customers(id) ON DELETE SET NULL,
    anonymous_id TEXT,
    -- link, email or widget
    channel TEXT NOT NULL,
    lang TEXT NOT NULL,
    -- JSON object: question id → answer (null when skipped).
    answers TEXT NOT NULL,
    -- The question to ask next; NULL once complete.
    next_question TEXT,
    started_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    completed_at BIGINT
);
CREATE INDEX survey_responses_survey ON survey_responses (survey_id, id);
CREATE INDEX survey_responses_customer ON survey_responses (customer_id, survey_id);

-- Every attempt to survey someone: due (waiting to be sent), sent, shown, suppressed
-- (with the reason code and its number, e.g. too_soon 3 = "surveyed 3 days ago") or failed.
CREATE TABLE survey_contacts (
    id INTEGER PRIMARY KEY,
    survey_id BIGINT NOT NULL REFERENCES surveys(id) ON DELETE CASCADE,
    customer_id BIGINT REFERENCES customers(id) ON DELETE CASCADE,
    anonymous_id TEXT,
    channel TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT,
    reason_value BIGINT,
    -- The event that triggered it: one contact per survey and event.
    event_id BIGINT,
    response_token TEXT,
    due_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    decided_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX survey_contacts_event ON survey_contacts (survey_id, event_id);
CREATE INDEX survey_contacts_due ON survey_contacts (status, due_at);
CREATE INDEX survey_contacts_customer ON survey_contacts (customer_id, decided_at);
CREATE INDEX survey_contacts_anonymous ON survey_contacts (anonymous_id, decided_at);
CREATE INDEX survey_contacts_survey ON survey_contacts (survey_id, status);
