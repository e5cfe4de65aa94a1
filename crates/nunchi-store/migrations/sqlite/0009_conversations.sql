-- The support desk: conversations with customers over e-mail, chat, phone and messengers,
-- each a thread of incoming and outgoing messages, staff notes and activity lines.

CREATE TABLE conversations (
    id INTEGER PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    -- email, chat, phone, messenger: where it started.
    channel TEXT NOT NULL,
    -- open, pending, snoozed, resolved
    status TEXT NOT NULL,
    -- low, normal, high, urgent
    priority TEXT NOT NULL,
    subject TEXT NOT NULL,
    team_id BIGINT REFERENCES teams(id) ON DELETE SET NULL,
    assignee_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    snoozed_until BIGINT,
    -- The newest line of any kind, and the newest from the customer (what "waiting" means).
    last_message_at BIGINT NOT NULL,
    last_incoming_at BIGINT,
    -- The first reply to the customer; NULL until someone answers.
    first_reply_at BIGINT,
    resolved_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX conversations_by_status ON conversations (status, last_message_at);
CREATE INDEX conversations_by_customer ON conversations (customer_id);
CREATE INDEX conversations_by_assignee ON conversations (assignee_id, status);

CREATE TABLE conversation_messages (
    id INTEGER PRIMARY KEY,
    conversation_id BIGINT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    -- incoming, outgoing, note, activity
    direction TEXT NOT NULL,
    channel TEXT NOT NULL,
    author_user_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    text TEXT NOT NULL,
    -- The channel's own id (an e-mail's Message-ID): the same message taken in twice is
    -- stored once, and replies find their thread by it.
    external_id TEXT,
    -- For e-mail: the subject line as sent.
    subject TEXT,
    -- Outgoing messages: queued, sent or failed, with the reason a send failed.
    delivery TEXT,
    delivery_error TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX conversation_messages_thread ON conversation_messages (conversation_id, id);
CREATE UNIQUE INDEX conversation_messages_external ON conversation_messages (channel, external_id)
    WHERE external_id IS NOT NULL;

CREATE TABLE conversation_labels (
    conversation_id BIGINT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    label TEXT NOT NULL,
    PRIMARY KEY (conversation_id, label)
);

-- Mail that could not be read into a conversation, kept whole for an admin to look at.
CREATE TABLE unreadable_mail (
    id INTEGER PRIMARY KEY,
    received_at BIGINT NOT NULL,
    reason TEXT NOT NULL,
    raw BLOB NOT NULL
);
