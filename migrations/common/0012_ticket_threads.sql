-- The threads a ticket lives in besides its question's own: the mirror under the moderators'
-- notice ('mirror'), and on Discord the private thread of a question asked privately
-- ('private'). A row is written when the thread's first message is sent (its id is the
-- platform's: a Slack ts, a Discord message or thread id); later messages go into it, and a
-- message written in it is the ticket's.
CREATE TABLE ticket_threads (
    platform   TEXT NOT NULL,
    thread_id  TEXT NOT NULL,
    ticket_id  BIGINT NOT NULL REFERENCES tickets (id),
    place      TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (platform, thread_id)
);
CREATE UNIQUE INDEX ticket_threads_by_ticket ON ticket_threads (ticket_id, place);
-- A question asked with `ask` and answered only to the asker (a slash command), and a ticket
-- for one: what the asker hears about it is private too.
ALTER TABLE questions ADD COLUMN private INTEGER NOT NULL DEFAULT 0;
-- A ticket for a question asked privately (an `ask` answered only to the asker): what the asker
-- hears about it is private too.
ALTER TABLE tickets ADD COLUMN private INTEGER NOT NULL DEFAULT 0;
