-- Voice of the Customer: one feedback stream for survey answers, reviews, social posts,
-- app-store reviews and support ratings, each normalised so they can be compared.

CREATE TABLE feedback (
    id INTEGER PRIMARY KEY,
    -- survey, review, social, app_store, support, employee
    source TEXT NOT NULL,
    -- The source's own id (review id, response id): importing twice stores it once.
    external_id TEXT,
    -- nps, csat, ces when the rating is one of those; rating for other scales; NULL for text only.
    metric TEXT,
    rating REAL,
    scale_min REAL,
    scale_max REAL,
    -- The rating mapped to 0..1 on its scale.
    score REAL,
    body TEXT NOT NULL,
    url TEXT,
    author TEXT,
    customer_id BIGINT REFERENCES customers(id),
    touchpoint_id BIGINT REFERENCES touchpoints(id) ON DELETE SET NULL,
    stage_id BIGINT REFERENCES journey_stages(id) ON DELETE SET NULL,
    team_id BIGINT REFERENCES teams(id) ON DELETE SET NULL,
    channel TEXT NOT NULL,
    -- Text annotations, filled when the text analytics has read the body.
    lang TEXT,
    sentiment REAL,
    sentiment_label TEXT,
    topics TEXT,
    annotated_at BIGINT,
    created_at BIGINT NOT NULL,
    received_at BIGINT NOT NULL
);

CREATE UNIQUE INDEX feedback_source_external ON feedback (source, external_id);
CREATE INDEX feedback_created ON feedback (created_at);
CREATE INDEX feedback_customer ON feedback (customer_id);
CREATE INDEX feedback_unannotated ON feedback (id) WHERE annotated_at IS NULL AND body <> '';
