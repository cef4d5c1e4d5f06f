-- A ticket's timers: SLA warnings and breaches, the nudge to a quiet asker and the close after
-- it. One row per ticket and kind; re-arming moves `due_at` and clears `fired_at`. An instance
-- fires a timer by setting `fired_at` while it is still null, so each fires once across
-- instances and restarts.
CREATE TABLE ticket_timers (
    ticket_id BIGINT NOT NULL REFERENCES tickets (id),
    kind      TEXT NOT NULL,
    due_at    BIGINT NOT NULL,
    armed_at  BIGINT NOT NULL,
    fired_at  BIGINT,
    PRIMARY KEY (ticket_id, kind)
);
CREATE INDEX ticket_timers_due ON ticket_timers (fired_at, due_at);
