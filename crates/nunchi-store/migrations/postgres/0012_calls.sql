-- Phone calls a telephony system logs: each is a line of a conversation (its notes are the
-- line's text) with the call's own facts beside it.

CREATE TABLE calls (
    message_id BIGINT PRIMARY KEY REFERENCES conversation_messages(id) ON DELETE CASCADE,
    -- inbound or outbound
    direction TEXT NOT NULL,
    number TEXT NOT NULL,
    agent_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    started_at BIGINT NOT NULL,
    ended_at BIGINT,
    -- answered, missed, voicemail, busy, failed
    outcome TEXT NOT NULL,
    recording_url TEXT
);
