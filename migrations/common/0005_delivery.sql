-- Delivery: the order within a channel, which sends may already be on the platform, and what
-- was given up.
-- `lane` is where an action goes (its channel, as the core names it); the outbox fills it in
-- when it first sees a row, and sends the rows of one lane in order.
-- `uncertain` is 1 from the moment a send starts until its outcome is known: a row claimed again
-- with it still set was cut short (a crash, a timeout, a 5xx) and may already have arrived, so
-- where the platform lets us look, we look before sending it again.
-- `attempted_at` is when the last send started.
ALTER TABLE outbox ADD COLUMN lane TEXT;
ALTER TABLE outbox ADD COLUMN uncertain BIGINT NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN attempted_at BIGINT;
CREATE INDEX outbox_pending_lane ON outbox (platform, lane, id) WHERE sent_at IS NULL AND failed_at IS NULL;
CREATE INDEX outbox_given_up ON outbox (failed_at);
