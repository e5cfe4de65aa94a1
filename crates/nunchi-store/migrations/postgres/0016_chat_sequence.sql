-- Live chat: every line of a thread gets a number in its conversation (1, 2, 3 …) in the
-- order it was committed, so a client that reconnects says the last number it saw and is
-- sent exactly what it missed. The conversation's row holds the last number given; adding a
-- line bumps it first, which also makes concurrent writers to one thread take turns.
-- client_id is the id a chat client gives a message it sends, so a message re-sent after a
-- dropped connection is stored once.

ALTER TABLE conversations ADD COLUMN last_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE conversation_messages ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE conversation_messages ADD COLUMN client_id TEXT;

UPDATE conversation_messages SET seq = (
    SELECT COUNT(*) FROM conversation_messages m
    WHERE m.conversation_id = conversation_messages.conversation_id
      AND m.id <= conversation_messages.id
);
UPDATE conversations SET last_seq = (
    SELECT COALESCE(MAX(m.seq), 0) FROM conversation_messages m
    WHERE m.conversation_id = conversations.id
);

CREATE UNIQUE INDEX conversation_messages_seq ON conversation_messages (conversation_id, seq);
CREATE UNIQUE INDEX conversation_messages_client ON conversation_messages (conversation_id, client_id)
    WHERE client_id IS NOT NULL;
