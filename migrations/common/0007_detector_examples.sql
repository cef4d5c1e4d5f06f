-- What moderators taught the support-question detector: a ticket or reply marked "not a
-- question" (support = 0), a message the bot ignored and a moderator escalated (support = 1).
-- One row per message: a later correction replaces an earlier one.
CREATE TABLE detector_examples (
    platform   TEXT NOT NULL,
    message_id TEXT NOT NULL,
    text       TEXT NOT NULL,
    support    BIGINT NOT NULL,
    source     TEXT NOT NULL,  -- not_a_question | escalated
    by_user    TEXT NOT NULL,
    at         BIGINT NOT NULL,
    PRIMARY KEY (platform, message_id)
);
