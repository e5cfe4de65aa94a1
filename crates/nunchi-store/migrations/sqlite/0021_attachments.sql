-- Files sent with conversation messages. The bytes live in a file under the data folder
-- (SQLite, named by file_path) or in the row (PostgreSQL, data); a file that was not kept
-- (too large, a type not allowed) has a row saying why and no bytes, so nothing a customer
-- sent disappears without a trace.

CREATE TABLE attachments (
    id INTEGER PRIMARY KEY,
    conversation_id BIGINT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    -- NULL while an upload waits for the message it will go with.
    message_id BIGINT REFERENCES conversation_messages(id) ON DELETE CASCADE,
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    file_path TEXT,
    data BLOB,
    rejected TEXT,
    uploaded_by BIGINT REFERENCES users(id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX attachments_by_message ON attachments (message_id);
CREATE INDEX attachments_by_conversation ON attachments (conversation_id);
