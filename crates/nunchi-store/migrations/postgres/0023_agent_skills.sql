-- What each agent can handle (languages, channels, topics), comma-separated: a
-- conversation whose language, channel or labels name a skill some agent has goes only to
-- agents with it.

ALTER TABLE agent_availability ADD COLUMN skills TEXT NOT NULL DEFAULT '';
