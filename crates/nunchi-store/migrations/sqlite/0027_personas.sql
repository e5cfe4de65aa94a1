-- Personas: a story about a kind of customer (name, photo, goals, pains, preferred
-- channels, a quote, in Korean and English) linked to the segment that holds the real
-- customers it is about, so its page can show the live truth beside the story.

CREATE TABLE personas (
    id INTEGER PRIMARY KEY,
    -- The segment of its customers; a persona outlives a deleted segment, unlinked.
    segment_id BIGINT REFERENCES segments(id) ON DELETE SET NULL,
    name_ko TEXT NOT NULL,
    name_en TEXT NOT NULL,
    goals_ko TEXT NOT NULL,
    goals_en TEXT NOT NULL,
    pains_ko TEXT NOT NULL,
    pains_en TEXT NOT NULL,
    quote_ko TEXT NOT NULL,
    quote_en TEXT NOT NULL,
    -- Channel keys the story says they prefer, comma-separated (app,web).
    channels TEXT NOT NULL,
    photo BLOB,
    photo_type TEXT,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
