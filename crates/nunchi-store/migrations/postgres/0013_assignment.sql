-- Automatic assignment: each agent's availability (away, a cap on open conversations,
-- working hours) and when they were last given a conversation (for round-robin).

CREATE TABLE agent_availability (
    user_id BIGINT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    away BOOLEAN NOT NULL DEFAULT FALSE,
    -- Open conversations they may hold at once; NULL: no cap.
    max_open BIGINT,
    -- A weekly schedule (mon-fri 09:00-18:00) in time_zone; NULL: any time.
    working_hours TEXT,
    time_zone TEXT NOT NULL DEFAULT 'Asia/Seoul',
    last_assigned_at BIGINT
);
