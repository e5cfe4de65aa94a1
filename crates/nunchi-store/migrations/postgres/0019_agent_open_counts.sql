-- Each agent's open (not resolved) conversations, kept current by a trigger on every
-- insert, assignment, status change and deletion, so an assignment decision reads one row
-- per agent instead of counting every open conversation.

CREATE TABLE agent_open_counts (
    user_id BIGINT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    open_count BIGINT NOT NULL
);

INSERT INTO agent_open_counts (user_id, open_count)
SELECT assignee_id, COUNT(*) FROM conversations
WHERE assignee_id IS NOT NULL AND status <> 'resolved'
GROUP BY assignee_id;

CREATE FUNCTION agent_open_counts_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.assignee_id IS NOT NULL
            AND OLD.status <> 'resolved' THEN
        UPDATE agent_open_counts SET open_count = open_count - 1
        WHERE user_id = OLD.assignee_id;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.assignee_id IS NOT NULL
            AND NEW.status <> 'resolved' THEN
        INSERT INTO agent_open_counts (user_id, open_count) VALUES (NEW.assignee_id, 1)
        ON CONFLICT (user_id) DO UPDATE SET open_count = agent_open_counts.open_count + 1;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER agent_open_counts_follow
AFTER INSERT OR DELETE OR UPDATE OF assignee_id, status ON conversations
FOR EACH ROW EXECUTE FUNCTION agent_open_counts_follow();
