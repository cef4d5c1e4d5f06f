-- A ticket's GitHub issue: asked for by `ticket github`, opened (or an existing one checked) by
-- one instance's GitHub worker, which claims the row first; `state` follows the issue (webhook).
-- Several tickets may share one issue (a repeat linked to the issue already open).
CREATE TABLE ticket_github (
    ticket_id       BIGINT PRIMARY KEY REFERENCES tickets (id),
    repo            TEXT NOT NULL,
    number          BIGINT,
    url             TEXT,
    state           TEXT NOT NULL,
    requested_by    TEXT NOT NULL,
    requested_at    BIGINT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    claimed_until   BIGINT,
    last_error      TEXT,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX ticket_github_issue ON ticket_github (repo, number);
CREATE INDEX ticket_github_due ON ticket_github (state, next_attempt_at);
