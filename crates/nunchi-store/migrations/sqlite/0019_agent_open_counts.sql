-- Each agent's open (not resolved) conversations, kept current by triggers on every
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

CREATE TRIGGER agent_open_counts_insert AFTER INSERT ON conversations
WHEN NEW.assignee_id IS NOT NULL AND NEW.status <> 'resolved' BEGIN
    INSERT INTO agent_open_counts (user_id, open_count) VALUES (NEW.assignee_id, 1)
    ON CONFLICT (user_id) DO UPDATE SET open_count = open_count + 1;
END;

CREATE TRIGGER agent_open_counts_leave AFTER UPDATE OF assignee_id, status ON conversations
WHEN OLD.assignee_id IS NOT NULL AND OLD.status <> 'resolved' BEGIN
    UPDATE agent_open_counts SET open_count = open_count - 1 WHERE user_id = OLD.assignee_id;
END;

CREATE TRIGGER agent_open_counts_enter AFTER UPDATE OF assignee_id, status ON conversations
WHEN NEW.assignee_id IS NOT NULL AND NEW.status <> 'resolved' BEGIN
    INSERT INTO agent_open_counts (user_id, open_count) VALUES (NEW.assignee_id, 1)
    ON CONFLICT (user_id) DO UPDATE SET open_count = open_count + 1;
END;

CREATE TRIGGER agent_open_counts_delete AFTER DELETE ON conversations
WHEN OLD.assignee_id IS NOT NULL AND OLD.status <> 'resolved' BEGIN
    UPDATE agent_open_counts SET open_count = open_count - 1 WHERE user_id = OLD.assignee_id;
END;
