//! The customer store's SQL (`customers.rs` and `customer_writes.rs`), written once for both
//! backends, each statement named after the operation it serves.

pub(crate) const LIVE_CUSTOMER: &str = "SELECT * FROM customers WHERE id = $1";

pub(crate) const UPSERT_CUSTOMERS_SELECT_ATTRIBUTE_DEFS: &str =
    "SELECT key, type FROM attribute_defs";

pub(crate) const FIND_BY_IDENTITY: &str = "
    SELECT customer_id FROM customer_identities WHERE kind = $1 AND value = $2";

pub(crate) const REMOVE_IDENTITY: &str = "
    DELETE FROM customer_identities WHERE customer_id = $1 AND kind = $2 AND value = $3";

pub(crate) const LIST_CUSTOMERS: &str = "
    SELECT c.id FROM customers c WHERE c.merged_into IS NULL AND c.erased_at IS NULL";

pub(crate) const SEARCH_CUSTOMERS_SELECT_SEARCH_KEYS: &str = "
    SELECT customer_id FROM search_keys WHERE key >= $1 AND key < $2 ORDER BY key LIMIT $3";

pub(crate) const SET_TAGS_DELETE_TAGS: &str = "DELETE FROM customer_tags WHERE customer_id = $1";

pub(crate) const SET_TAGS_INSERT_TAGS: &str = "
    INSERT INTO customer_tags (customer_id, tag) VALUES ($1, $2) ON CONFLICT DO NOTHING";

pub(crate) const ATTRIBUTE_TYPE_SELECT_ATTRIBUTE_DEFS: &str =
    "SELECT type FROM attribute_defs WHERE key = $1";

pub(crate) const ATTRIBUTE_KEYS_SELECT_ATTRIBUTE_DEFS: &str =
    "SELECT key FROM attribute_defs ORDER BY key";

pub(crate) const ATTRIBUTE_VALUES: &str = "
    SELECT customer_id, value FROM customer_attributes WHERE key = $1";

pub(crate) const CUSTOMERS_TAGGED: &str = "SELECT customer_id FROM customer_tags WHERE tag = $1";

pub(crate) const CONSENT_HISTORY: &str = "
    SELECT channel, purpose, granted, at, source FROM consents WHERE customer_id = $1
    ORDER BY at DESC, id DESC";

pub(crate) const ADD_NOTE: &str = "
    INSERT INTO notes (customer_id, author_user_id, author_name, body, created_at)
    VALUES ($1, $2, $3, $4, $5) RETURNING *";

pub(crate) const ADD_NOTES: &str = "INSERT INTO notes (customer_id, author_name, body, created_at)";

pub(crate) const NOTES: &str = "
    SELECT * FROM notes WHERE customer_id = $1 ORDER BY created_at DESC, id DESC";

pub(crate) const MERGE_CUSTOMERS_UPDATE_CUSTOMERS: &str = "
    UPDATE customers SET name = COALESCE(name, (SELECT s.name FROM customers s
    WHERE s.id = $2)), language = COALESCE(language, (SELECT s.language FROM customers s
    WHERE s.id = $2)), time_zone = COALESCE(time_zone, (SELECT s.time_zone FROM customers s
    WHERE s.id = $2)), preferred_channel = COALESCE(preferred_channel, (SELECT s.preferred_channel
    FROM customers s WHERE s.id = $2)), created_at = (SELECT MIN(x.created_at) FROM customers x
    WHERE x.id IN ($1, $2)), updated_at = $3 WHERE id = $1";

pub(crate) const MERGE_CUSTOMERS_UPDATE_CUSTOMERS_2: &str = "
    UPDATE customers SET merged_into = $1, name = NULL, updated_at = $3
    WHERE id = $2 OR merged_into = $2";

pub(crate) const MERGE_CUSTOMERS_INSERT_MERGES: &str = "
    INSERT INTO merges (source_id, target_id, actor, at) VALUES ($1, $2, $3, $4)";

pub(crate) const EXPORT_CUSTOMER_SELECT_FEEDBACK: &str = "
    SELECT * FROM feedback WHERE customer_id = $1 ORDER BY created_at, id";

pub(crate) const EXPORT_CUSTOMER_SELECT_SURVEY_RESPONSES: &str = "
    SELECT * FROM survey_responses WHERE customer_id = $1 ORDER BY started_at, id";

pub(crate) const EXPORT_CUSTOMER_SELECT_SURVEY_CONTACTS: &str = "
    SELECT * FROM survey_contacts WHERE customer_id = $1 ORDER BY created_at, id";

pub(crate) const EXPORT_CUSTOMER_SELECT_CONVERSATION_MESSAGES: &str = "
    SELECT m.* FROM conversation_messages m JOIN conversations c ON c.id = m.conversation_id
    WHERE c.customer_id = $1 ORDER BY m.id";

pub(crate) const EXPORT_CUSTOMER_SELECT_DELIVERIES: &str = "
    SELECT * FROM deliveries WHERE customer_id = $1 ORDER BY created_at, id";

pub(crate) const EXPORT_CUSTOMER_SELECT_CALLS: &str = "
    SELECT k.* FROM calls k JOIN conversation_messages m ON m.id = k.message_id
    JOIN conversations c ON c.id = m.conversation_id WHERE c.customer_id = $1
    ORDER BY k.message_id";

pub(crate) const CUSTOMERS_PAGE: &str = "
    SELECT id FROM customers WHERE id > $1 AND merged_into IS NULL AND erased_at IS NULL
    ORDER BY id LIMIT $2";

pub(crate) const STATS_SELECT_CUSTOMERS: &str = "
    SELECT (SELECT COUNT(*) FROM customers WHERE merged_into IS NULL
    AND erased_at IS NULL), (SELECT COUNT(*) FROM orders), (SELECT COUNT(*)
    FROM notes), (SELECT COUNT(*) FROM jobs WHERE status = 'queued')";

pub(crate) const DAILY_SIGNUPS_SELECT_CUSTOMERS: &str = "
    SELECT created_at / 86400000 AS day, COUNT(*) FROM customers WHERE merged_into IS NULL
    GROUP BY created_at / 86400000 ORDER BY day";

pub(crate) const LOAD_CUSTOMERS_SELECT_CUSTOMERS: &str = "
    SELECT * FROM customers WHERE id >= $1 AND id <= $2 ORDER BY id";

pub(crate) const LOAD_CUSTOMERS_SELECT_IDENTITIES: &str = "
    SELECT customer_id, id, kind, value, created_at FROM customer_identities
    WHERE customer_id >= $1 AND customer_id <= $2 ORDER BY id";

pub(crate) const LOAD_CUSTOMERS_SELECT_TAGS: &str = "
    SELECT customer_id, tag FROM customer_tags WHERE customer_id >= $1 AND customer_id <= $2
    ORDER BY tag";

pub(crate) const LOAD_CUSTOMERS_SELECT_ATTRIBUTES: &str = "
    SELECT a.customer_id, a.key, d.type, a.value FROM customer_attributes a
    JOIN attribute_defs d ON d.key = a.key WHERE a.customer_id >= $1 AND a.customer_id <= $2
    ORDER BY a.key";

pub(crate) const LOAD_CUSTOMERS_SELECT_CONSENTS: &str = "
    SELECT customer_id, channel, purpose, granted, at, source FROM consents
    WHERE customer_id >= $1 AND customer_id <= $2 ORDER BY channel, purpose, at DESC, id DESC";

pub(crate) const LOAD_CUSTOMERS_SELECT_LIFE_EVENTS: &str = "
    SELECT customer_id, id, kind, label, date, recurring FROM life_events WHERE customer_id >= $1
    AND customer_id <= $2 ORDER BY date";

pub(crate) const IDENTITY_OWNERS: &str = "
    SELECT kind, value, customer_id FROM customer_identities WHERE";

pub(crate) const INSERT_GROUP_INSERT_ATTRIBUTE_DEFS: &str = "
    INSERT INTO attribute_defs (key, type, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";

pub(crate) const INSERT_GROUP_INSERT_CUSTOMERS: &str = "
    INSERT INTO customers (id, name, language, time_zone, preferred_channel, created_at,
    updated_at)";

pub(crate) const INSERT_GROUP_INSERT_IDENTITIES: &str = "
    INSERT INTO customer_identities (customer_id, kind, value, created_at)";

pub(crate) const INSERT_GROUP_INSERT_IDENTITY_LOG: &str = "
    INSERT INTO identity_log (customer_id, action, kind, value, actor, at)";

pub(crate) const INSERT_GROUP_INSERT_TAGS: &str = "INSERT INTO customer_tags (customer_id, tag)";

pub(crate) const INSERT_GROUP_INSERT_CONSENTS: &str = "
    INSERT INTO consents (customer_id, channel, purpose, granted, at, source)";

pub(crate) const INSERT_GROUP_INSERT_LIFE_EVENTS: &str = "
    INSERT INTO life_events (customer_id, kind, label, date, recurring)";

pub(crate) const INSERT_GROUP_INSERT_ATTRIBUTES: &str = "
    INSERT INTO customer_attributes (customer_id, key, value)";

pub(crate) const INSERT_GROUP_INSERT_SEARCH_KEYS: &str =
    "INSERT INTO search_keys (key, customer_id)";

pub(crate) const REFRESH_SEARCH_KEYS_SELECT_CUSTOMERS: &str =
    "SELECT name FROM customers WHERE id = $1";

pub(crate) const REFRESH_SEARCH_KEYS_SELECT_IDENTITIES: &str = "
    SELECT kind, value FROM customer_identities WHERE customer_id = $1";

pub(crate) const REFRESH_SEARCH_KEYS_DELETE_SEARCH_KEYS: &str =
    "DELETE FROM search_keys WHERE customer_id = $1";

pub(crate) const REFRESH_SEARCH_KEYS_INSERT_SEARCH_KEYS: &str = "
    INSERT INTO search_keys (key, customer_id) VALUES ($1, $2) ON CONFLICT DO NOTHING";

pub(crate) const LOG_IDENTITY: &str = "
    INSERT INTO identity_log (customer_id, action, kind, value, actor, at)
    VALUES ($1, $2, $3, $4, $5, $6)";

pub(crate) const ATTACH_IDENTITY_SELECT_IDENTITIES: &str = "
    SELECT customer_id FROM customer_identities WHERE kind = $1 AND value = $2";

pub(crate) const ATTACH_IDENTITY_INSERT_IDENTITIES: &str = "
    INSERT INTO customer_identities (customer_id, kind, value, created_at) VALUES ($1, $2, $3, $4)";

pub(crate) const WRITE_PROFILE_UPDATE_CUSTOMERS: &str = "
    UPDATE customers SET name = COALESCE($2, name), language = COALESCE($3, language), time_zone =
    COALESCE($4, time_zone), preferred_channel = COALESCE($5, preferred_channel), updated_at = $6
    WHERE id = $1";

pub(crate) const WRITE_ATTRIBUTE_SELECT_ATTRIBUTE_DEFS: &str =
    "SELECT type FROM attribute_defs WHERE key = $1";

pub(crate) const WRITE_ATTRIBUTE_INSERT_ATTRIBUTE_DEFS: &str = "
    INSERT INTO attribute_defs (key, type, created_at) VALUES ($1, $2, $3)";

pub(crate) const WRITE_ATTRIBUTE_INSERT_ATTRIBUTES: &str = "
    INSERT INTO customer_attributes (customer_id, key, value) VALUES ($1, $2, $3)
    ON CONFLICT (customer_id, key) DO UPDATE SET value = excluded.value";

pub(crate) const WRITE_CONSENT_SELECT_CONSENTS: &str = "
    SELECT granted FROM consents WHERE customer_id = $1 AND channel = $2 AND purpose = $3
    ORDER BY at DESC, id DESC LIMIT 1";

pub(crate) const WRITE_CONSENT_INSERT_CONSENTS: &str = "
    INSERT INTO consents (customer_id, channel, purpose, granted, at, source)
    VALUES ($1, $2, $3, $4, $5, $6)";

pub(crate) const WRITE_LIFE_EVENT: &str = "
    INSERT INTO life_events (customer_id, kind, label, date, recurring)
    VALUES ($1, $2, $3, $4, $5) ON CONFLICT (customer_id, kind, label) DO UPDATE
    SET date = excluded.date, recurring = excluded.recurring";

pub(crate) const WRITE_RECORD_INSERT_TAGS: &str = "
    INSERT INTO customer_tags (customer_id, tag) VALUES ($1, $2) ON CONFLICT DO NOTHING";

pub(crate) const INSERT_CUSTOMER_ROW: &str = "
    INSERT INTO customers (created_at, updated_at) VALUES ($1, $2) RETURNING id";
