-- Search over conversation messages in any language: trigram indexes (pg_trgm, trusted,
-- so the database owner may create it) serve ILIKE '%…%' for three or more characters.
-- pg_trgm extracts Hangul trigrams only where the database's LC_CTYPE is a UTF-8 locale;
-- nunchi checks this when it connects and says what to do otherwise.

CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX conversation_messages_text_trgm ON conversation_messages USING gin (text gin_trgm_ops);
CREATE INDEX conversations_subject_trgm ON conversations USING gin (subject gin_trgm_ops);
