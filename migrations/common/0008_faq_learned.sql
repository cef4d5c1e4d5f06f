-- Phrasings an FAQ entry learned from its community, with their provenance: questions whose
-- answer the asker marked helpful, tickets a moderator resolved into the entry, questions a
-- moderator linked to it. One row per entry and normalised text; a retired row (its answer was
-- later voted not helpful, or a moderator removed it) stays for the record but no longer counts.
CREATE TABLE faq_learned (
    faq_id       TEXT NOT NULL,
    text_key     TEXT NOT NULL,
    text         TEXT NOT NULL,
    learned_from TEXT NOT NULL,  -- helpful | ticket | moderator
    platform     TEXT,
    message_id   TEXT,
    confirmed_by TEXT NOT NULL,
    learned_at   BIGINT NOT NULL,
    retired_at   BIGINT,
    retired_why  TEXT,
    PRIMARY KEY (faq_id, text_key)
);
CREATE INDEX faq_learned_by_message ON faq_learned (platform, message_id);
