-- Per channel, the newest message id up to which every message was stored (Discord's catch-up
-- reads history after it). Snowflake ids as integers, so that they compare by value.
CREATE TABLE channel_cursors (
    platform   TEXT NOT NULL,
    channel    TEXT NOT NULL,
    message_id BIGINT NOT NULL,
    PRIMARY KEY (platform, channel)
);
