-- How far each colleague has read each conversation (the number of the last line they
-- saw): the inbox counts the customer's lines after it as unread.

CREATE TABLE conversation_reads (
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    conversation_id BIGINT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    read_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, conversation_id)
);
