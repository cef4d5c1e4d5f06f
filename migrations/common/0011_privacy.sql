-- Privacy (README "What supportbot stores and for how long"): forgetting a member, exporting
-- what is stored about them, and the retention job.

-- Whose words a learned phrasing and a detector example are (the asker, the message's author),
-- so that forgetting them finds these rows after their messages are gone. Filled in from the
-- messages and questions still stored.
ALTER TABLE faq_learned ADD COLUMN author_id TEXT;
UPDATE faq_learned SET author_id = (SELECT q.asker_id FROM questions q WHERE q.platform = faq_learned.platform AND q.message_id = faq_learned.message_id)
    WHERE message_id IS NOT NULL;
UPDATE faq_learned SET author_id = (SELECT m.user_id FROM messages m WHERE m.platform = faq_learned.platform AND m.id = faq_learned.message_id)
    WHERE author_id IS NULL AND message_id IS NOT NULL;
ALTER TABLE detector_examples ADD COLUMN author_id TEXT;
UPDATE detector_examples SET author_id = (SELECT m.user_id FROM messages m WHERE m.platform = detector_examples.platform AND m.id = detector_examples.message_id);
UPDATE detector_examples SET author_id = (SELECT q.asker_id FROM questions q WHERE q.platform = detector_examples.platform AND q.message_id = detector_examples.message_id)
    WHERE author_id IS NULL;

-- Who wrote a history line, by platform id (`actor` is their name): a member's lines in other
-- people's tickets are found by it. Lines from before this migration have none.
ALTER TABLE ticket_events ADD COLUMN actor_id TEXT;

-- When a ticket's text was removed (its asker asked to be forgotten, or `[privacy]
-- keep_tickets` passed): it keeps its number, state and times.
ALTER TABLE tickets ADD COLUMN redacted_at BIGINT;

-- An outbox row whose text must not outlive its delivery (a data export, the confirmation of a
-- forget-me): blanked when sent or given up.
ALTER TABLE outbox ADD COLUMN erase_after_send BIGINT NOT NULL DEFAULT 0;

-- A member's `forget-me`, waiting for its `forget-me confirm`; gone when confirmed, cancelled or
-- expired.
CREATE TABLE privacy_requests (
    platform   TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    asked_at   BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (platform, user_id)
);

-- What was forgotten, exported or expired, and when: counts only, never whose data it was.
-- `by_user` is the moderator who asked (null for a member's own request, the operator's command
-- line and the retention job).
CREATE TABLE privacy_actions (
    key          TEXT PRIMARY KEY,
    action       TEXT NOT NULL,  -- forget | export | retention
    requested_by TEXT NOT NULL,  -- member | moderator | operator | retention
    by_user      TEXT,
    platform     TEXT,
    at           BIGINT NOT NULL,
    counts       TEXT NOT NULL   -- JSON object: kind -> rows
);
CREATE INDEX privacy_actions_by_time ON privacy_actions (at);

-- The retention job's next run: an instance runs it by moving `due_at` forward while it is
-- still due, so it runs once across instances.
CREATE TABLE privacy_schedule (
    job        TEXT PRIMARY KEY,
    due_at     BIGINT NOT NULL,
    claimed_by TEXT,
    claimed_at BIGINT
);
INSERT INTO privacy_schedule (job, due_at) VALUES ('retention', 0);

-- Retention reads by age.
CREATE INDEX questions_by_time ON questions (asked_at);
CREATE INDEX inbox_by_time ON inbox (received_at);
CREATE INDEX outbox_by_time ON outbox (created_at);
CREATE INDEX tickets_by_platform_asker ON tickets (platform, asker_id);
CREATE INDEX messages_by_user ON messages (platform, user_id);
