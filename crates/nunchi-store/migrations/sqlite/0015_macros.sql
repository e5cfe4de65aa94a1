-- Canned replies agents insert with a short code, in Korean and English, with variables
-- such as {{customer_name}} filled from the conversation.

CREATE TABLE macros (
    id INTEGER PRIMARY KEY,
    shortcut TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    body_ko TEXT NOT NULL,
    body_en TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
