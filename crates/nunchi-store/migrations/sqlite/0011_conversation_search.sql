-- Search over conversation messages in any language: FTS5's trigram tokenizer finds any
-- substring of three or more characters ("환불" inside "환불해 주세요" needs the LIKE path,
-- shorter than a trigram). The bundled SQLite is used: the system's 3.40 answers some
-- two-syllable trigram LIKE searches wrongly. Kept in step with the messages by triggers;
-- secure-delete removes an erased message's words from the index itself.

CREATE VIRTUAL TABLE conversation_message_fts USING fts5(
    text,
    content = 'conversation_messages',
    content_rowid = 'id',
    tokenize = 'trigram'
);
INSERT INTO conversation_message_fts (conversation_message_fts, rank) VALUES ('secure-delete', 1);
INSERT INTO conversation_message_fts (conversation_message_fts) VALUES ('rebuild');

CREATE TRIGGER conversation_messages_fts_insert AFTER INSERT ON conversation_messages BEGIN
    INSERT INTO conversation_message_fts (rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER conversation_messages_fts_delete AFTER DELETE ON conversation_messages BEGIN
    INSERT INTO conversation_message_fts (conversation_message_fts, rowid, text)
    VALUES ('delete', old.id, old.text);
END;
CREATE TRIGGER conversation_messages_fts_update AFTER UPDATE OF text ON conversation_messages BEGIN
    INSERT INTO conversation_message_fts (conversation_message_fts, rowid, text)
    VALUES ('delete', old.id, old.text);
    INSERT INTO conversation_message_fts (rowid, text) VALUES (new.id, new.text);
END;
