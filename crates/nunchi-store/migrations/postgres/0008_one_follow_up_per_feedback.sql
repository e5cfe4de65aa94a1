-- One follow-up per piece of feedback, whatever number of rules it met: a customer's
-- problem is one item to work, and every rule that matched it is recorded beside it.

CREATE TABLE follow_up_rules (
    follow_up_id BIGINT NOT NULL REFERENCES follow_ups(id) ON DELETE CASCADE,
    rule_id BIGINT NOT NULL REFERENCES loop_rules(id) ON DELETE CASCADE,
    PRIMARY KEY (follow_up_id, rule_id)
);
CREATE INDEX follow_up_rules_rule ON follow_up_rules (rule_id);

-- Follow-ups opened before this: each feedback keeps its first, which takes over the
-- others' rules and notes (an open one is kept open if any of them was).
INSERT INTO follow_up_rules (follow_up_id, rule_id)
SELECT DISTINCT (SELECT MIN(k.id) FROM follow_ups k WHERE k.feedback_id = f.feedback_id), f.rule_id
FROM follow_ups f WHERE f.rule_id IS NOT NULL;

UPDATE follow_up_notes SET follow_up_id = (
    SELECT MIN(k.id) FROM follow_ups k
    WHERE k.feedback_id = (SELECT f.feedback_id FROM follow_ups f WHERE f.id = follow_up_notes.follow_up_id)
);

UPDATE follow_ups SET status = 'open', closed_at = NULL, resolution = NULL
WHERE id = (SELECT MIN(k.id) FROM follow_ups k WHERE k.feedback_id = follow_ups.feedback_id)
  AND status = 'closed'
  AND EXISTS (SELECT 1 FROM follow_ups o WHERE o.feedback_id = follow_ups.feedback_id AND o.status = 'open');

DELETE FROM follow_ups
WHERE id <> (SELECT MIN(k.id) FROM follow_ups k WHERE k.feedback_id = follow_ups.feedback_id);

DROP INDEX follow_ups_once;
CREATE UNIQUE INDEX follow_ups_once ON follow_ups (feedback_id);
