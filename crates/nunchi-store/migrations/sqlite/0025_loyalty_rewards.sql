-- The reward catalogue, and which reward each redemption that took one was for. Taking a
-- reward lowers its stock in the same transaction as the spend, so it never oversells.

CREATE TABLE loyalty_rewards (
    id INTEGER PRIMARY KEY,
    name_ko TEXT NOT NULL,
    name_en TEXT NOT NULL,
    points BIGINT NOT NULL,
    -- NULL: no limit.
    stock BIGINT CHECK (stock >= 0),
    active BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE loyalty_reward_claims (
    entry_id BIGINT PRIMARY KEY REFERENCES loyalty_entries(id),
    reward_id BIGINT NOT NULL REFERENCES loyalty_rewards(id),
    created_at BIGINT NOT NULL
);
CREATE INDEX loyalty_reward_claims_by_reward ON loyalty_reward_claims (reward_id);
