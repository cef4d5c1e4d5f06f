-- The support core: FAQ, messages, questions, tickets, durable intake and delivery.
-- Times are integer epoch milliseconds; booleans are 0/1 integers (portable through sqlx Any).

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE faq_entries (
    id           TEXT PRIMARY KEY,
    question     TEXT NOT NULL,
    alternatives TEXT NOT NULL,  -- JSON array of strings
    answer       TEXT NOT NULL,
    tags         TEXT NOT NULL,  -- JSON array
    links        TEXT NOT NULL,  -- JSON array
    source       TEXT NOT NULL,  -- file | chat | learned
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);

CREATE TABLE messages (
    platform   TEXT NOT NULL,
    id         TEXT NOT NULL,
    channel    TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    user_name  TEXT NOT NULL,
    text       TEXT NOT NULL,
    at         BIGINT NOT NULL,
    reply_to   TEXT,
    is_support INTEGER NOT NULL,
    deleted    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (platform, id)
);
CREATE INDEX messages_by_time ON messages (at);

CREATE TABLE questions (
    platform    TEXT NOT NULL,
    message_id  TEXT NOT NULL,
    channel     TEXT NOT NULL,
    asker_id    TEXT NOT NULL,
    asker_name  TEXT NOT NULL,
    text        TEXT NOT NULL,
    asked_at    BIGINT NOT NULL,
    status      TEXT NOT NULL,   -- pending | bot_answered | community_answered | ticketed
    faq_id      TEXT,
    confidence  DOUBLE PRECISION,
    answered_at BIGINT,
    answered_by TEXT,
    ticket_id   BIGINT,
    PRIMARY KEY (platform, message_id)
);
CREATE INDEX questions_pending ON questions (status, asked_at);

CREATE TABLE answer_feedback (
    platform   TEXT NOT NULL,
    message_id TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    helpful    INTEGER NOT NULL,
    comment    TEXT,
    at         BIGINT NOT NULL,
    PRIMARY KEY (platform, message_id, user_id)
);

CREATE TABLE tickets (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    platform            TEXT NOT NULL,
    channel             TEXT NOT NULL,
    question_message_id TEXT,
    asker_id            TEXT NOT NULL,
    asker_name          TEXT NOT NULL,
    question            TEXT NOT NULL,
    origin              TEXT NOT NULL,
    status              TEXT NOT NULL,
    priority            TEXT NOT NULL,
    assignee            TEXT,
    resolution          TEXT,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL,
    first_response_at   BIGINT,
    resolved_at         BIGINT,
    closed_at           BIGINT,
    UNIQUE (platform, question_message_id)
);
CREATE INDEX tickets_by_status ON tickets (status);

CREATE TABLE ticket_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id   BIGINT NOT NULL REFERENCES tickets (id),
    at          BIGINT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    from_status TEXT,
    to_status   TEXT NOT NULL,
    note        TEXT
);
CREATE INDEX ticket_events_by_ticket ON ticket_events (ticket_id);

CREATE TABLE ticket_links (
    ticket_id  BIGINT NOT NULL REFERENCES tickets (id),
    platform   TEXT NOT NULL,
    message_id TEXT NOT NULL,
    linked_at  BIGINT NOT NULL,
    PRIMARY KEY (platform, message_id)
);

-- Durable intake: every event is recorded before it is processed.
CREATE TABLE inbox (
    platform      TEXT NOT NULL,
    event_id      TEXT NOT NULL,
    payload       TEXT NOT NULL,
    received_at   BIGINT NOT NULL,
    claimed_until BIGINT,
    processed_at  BIGINT,
    PRIMARY KEY (platform, event_id)
);
CREATE INDEX inbox_unprocessed ON inbox (processed_at);

-- Durable delivery: every action is recorded before it is sent, and marked when sent.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    origin          TEXT NOT NULL,
    seq             INTEGER NOT NULL,
    platform        TEXT NOT NULL,
    payload         TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    claimed_until   BIGINT,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    sent_at         BIGINT,
    failed_at       BIGINT,  -- gave up: a permanent error or too many attempts
    UNIQUE (origin, seq)
);
CREATE INDEX outbox_unsent ON outbox (platform, sent_at, next_attempt_at);
