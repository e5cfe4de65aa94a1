-- Resolving a conversation asks its customer for a CSAT rating by a link; the answer joins
-- the feedback stream as a support rating, and the request keeps the agent and team.

CREATE TABLE csat_requests (
    -- The link's token, stored as its digest only.
    token_hash TEXT PRIMARY KEY,
    conversation_id BIGINT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    agent_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    team_id BIGINT REFERENCES teams(id) ON DELETE SET NULL,
    lang TEXT NOT NULL,
    sent_at BIGINT NOT NULL,
    answered_at BIGINT,
    rating BIGINT,
    feedback_id BIGINT REFERENCES feedback(id) ON DELETE SET NULL
);
CREATE INDEX csat_requests_conversation ON csat_requests (conversation_id);
