-- A follow-up opened by a closed-loop rule becomes a conversation its owner can answer:
-- the follow-up names it.

ALTER TABLE follow_ups ADD COLUMN conversation_id BIGINT REFERENCES conversations(id) ON DELETE SET NULL;
