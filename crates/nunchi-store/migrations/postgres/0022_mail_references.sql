-- The Message-IDs each incoming e-mail named in In-Reply-To and References, so that mail
-- whose parent is not stored still finds its conversation the way RFC 5256 threading
-- does: a parent arriving after its reply, and replies to the same missing message.

CREATE TABLE mail_references (
    message_id BIGINT NOT NULL REFERENCES conversation_messages(id) ON DELETE CASCADE,
    reference TEXT NOT NULL,
    PRIMARY KEY (message_id, reference)
);
CREATE INDEX mail_references_by_reference ON mail_references (reference);
