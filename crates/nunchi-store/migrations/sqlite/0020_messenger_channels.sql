-- Messenger channels (LINE, Telegram, nunchi's own signed webhook contract): what each
-- needs to check a delivery's signature and to send replies, and which channel and
-- recipient each messenger conversation answers to.

CREATE TABLE messenger_channels (
    id INTEGER PRIMARY KEY,
    -- The channel's name in its webhook URL: /hooks/messenger/{key}.
    key TEXT NOT NULL UNIQUE,
    -- generic, line, telegram
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    -- What signs deliveries to nunchi (LINE's channel secret, Telegram's secret token,
    -- the generic contract's whsec_ key); replies to the generic contract are signed too.
    secret TEXT NOT NULL,
    -- LINE's channel access token, Telegram's bot token.
    access_token TEXT,
    -- The provider's API root (its public one when empty); for the generic contract, the
    -- URL replies are posted to.
    api_base TEXT,
    created_at BIGINT NOT NULL
);

CREATE TABLE messenger_threads (
    conversation_id BIGINT PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,
    channel_id BIGINT NOT NULL REFERENCES messenger_channels(id) ON DELETE CASCADE,
    -- The provider's id of whom replies go to (a LINE user, a Telegram chat).
    recipient TEXT NOT NULL
);
CREATE INDEX messenger_threads_by_recipient ON messenger_threads (channel_id, recipient);
