-- Community feedback for the digest's themes: the `feedback` command, messages in feedback
-- channels, and comments given with a "not helpful" vote.
CREATE TABLE feedback (
    platform TEXT NOT NULL,
    id       TEXT NOT NULL,
    channel  TEXT NOT NULL,
    user_id  TEXT NOT NULL,
    text     TEXT NOT NULL,
    source   TEXT NOT NULL,  -- command | channel | not_helpful
    at       BIGINT NOT NULL,
    PRIMARY KEY (platform, id)
);
CREATE INDEX feedback_by_time ON feedback (at);
