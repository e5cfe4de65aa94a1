-- Closed-loop rules may name a saved segment (not only a customer tag): only feedback from
-- its members opens a follow-up. A deleted segment leaves the rule without the condition.

ALTER TABLE loop_rules ADD COLUMN segment_id BIGINT REFERENCES segments(id) ON DELETE SET NULL;
