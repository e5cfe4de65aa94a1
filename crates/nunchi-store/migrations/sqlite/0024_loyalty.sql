-- Loyalty: the program's settings, its earn rules, and the points ledger. Entries and
-- their draws are append-only (the triggers below refuse UPDATE and DELETE); the lots'
-- remainders and each account's debt are a current copy derived from them, which a full
-- replay of the entries must reproduce (nunchi_core::loyalty::Ledger).

CREATE TABLE loyalty_program (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    -- nunchi_core::loyalty::Program as JSON, tiers included.
    settings TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE loyalty_rules (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    -- base or multiplier
    kind TEXT NOT NULL,
    points BIGINT NOT NULL,
    per_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    percent BIGINT NOT NULL,
    -- all, product, category, channel, tier; the values one per line
    scope TEXT NOT NULL,
    scope_values TEXT NOT NULL,
    starts_at BIGINT,
    ends_at BIGINT,
    active BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL
);

-- A customer's points live in accounts; a merge moves the merged-away customer's account
-- to the survivor, who then holds two, so no entry ever has to change.
CREATE TABLE loyalty_accounts (
    id INTEGER PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    -- Derived: unbacked draws (reversals of spent points, a credit line) not yet settled.
    -- (A merged customer's accounts are read together: their sum is the debt.)
    debt BIGINT NOT NULL DEFAULT 0,
    tier TEXT,
    tier_since BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX loyalty_accounts_by_customer ON loyalty_accounts (customer_id, id);

CREATE TABLE loyalty_entries (
    id INTEGER PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES loyalty_accounts(id),
    -- earn, adjust, return, spend, expire, reverse, settle
    kind TEXT NOT NULL,
    -- Credits > 0 open a lot; debits < 0 name their lots in loyalty_draws.
    points BIGINT NOT NULL,
    -- Idempotency: earn:{order}:{product}:{rule}, redeem:{caller's id}, expire:{lot}, ...
    key TEXT NOT NULL UNIQUE,
    order_ref TEXT,
    rule_id BIGINT,
    product TEXT,
    category TEXT,
    occurred_at BIGINT NOT NULL,
    available_at BIGINT,
    expires_at BIGINT,
    waived BIGINT NOT NULL DEFAULT 0,
    reason TEXT NOT NULL DEFAULT '',
    actor TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX loyalty_entries_by_account ON loyalty_entries (account_id, id);

CREATE TABLE loyalty_draws (
    entry_id BIGINT NOT NULL REFERENCES loyalty_entries(id),
    position INTEGER NOT NULL,
    -- NULL: the points came from nowhere, and the account went into debt.
    lot_id BIGINT REFERENCES loyalty_entries(id),
    points BIGINT NOT NULL CHECK (points > 0),
    PRIMARY KEY (entry_id, position)
);

-- Derived: what is left of each credit.
CREATE TABLE loyalty_lots (
    lot_id BIGINT PRIMARY KEY REFERENCES loyalty_entries(id),
    account_id BIGINT NOT NULL REFERENCES loyalty_accounts(id),
    amount BIGINT NOT NULL,
    remaining BIGINT NOT NULL CHECK (remaining >= 0),
    available_at BIGINT NOT NULL,
    expires_at BIGINT
);
CREATE INDEX loyalty_lots_by_account ON loyalty_lots (account_id);
CREATE INDEX loyalty_lots_by_expiry ON loyalty_lots (expires_at) WHERE remaining > 0;

-- Tier moves, for the timeline and the customer's notice.
CREATE TABLE loyalty_tier_changes (
    id INTEGER PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES loyalty_accounts(id),
    from_tier TEXT,
    to_tier TEXT,
    points BIGINT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX loyalty_tier_changes_by_account ON loyalty_tier_changes (account_id, at);

-- Expiry notices sent, one per account and expiry day, so a notice goes out once.
CREATE TABLE loyalty_expiry_notices (
    account_id BIGINT NOT NULL REFERENCES loyalty_accounts(id),
    expires_on BIGINT NOT NULL,
    points BIGINT NOT NULL,
    sent_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, expires_on)
);

CREATE TRIGGER loyalty_entries_no_update BEFORE UPDATE ON loyalty_entries
BEGIN SELECT RAISE(ABORT, 'loyalty entries are append-only'); END;
CREATE TRIGGER loyalty_entries_no_delete BEFORE DELETE ON loyalty_entries
BEGIN SELECT RAISE(ABORT, 'loyalty entries are append-only'); END;
CREATE TRIGGER loyalty_draws_no_update BEFORE UPDATE ON loyalty_draws
BEGIN SELECT RAISE(ABORT, 'loyalty entries are append-only'); END;
CREATE TRIGGER loyalty_draws_no_delete BEFORE DELETE ON loyalty_draws
BEGIN SELECT RAISE(ABORT, 'loyalty entries are append-only'); END;
