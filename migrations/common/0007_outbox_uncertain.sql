-- 1 once an action was claimed for sending before (a crash may have come after the platform
-- took it, or a failed attempt may have reached it): check the platform before sending again.
ALTER TABLE outbox ADD COLUMN uncertain INTEGER NOT NULL DEFAULT 0;
