-- One row per scheduled digest: the claim that makes it post once across instances.
CREATE TABLE digest_runs (
    scheduled_at BIGINT PRIMARY KEY,  -- the schedule's instant (epoch ms), naming the period
    claimed_by   TEXT NOT NULL,
    claimed_at   BIGINT NOT NULL
);
