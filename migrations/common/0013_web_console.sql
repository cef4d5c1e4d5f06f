-- The moderators' web console. Tokens are never stored, only their SHA-256: a copy of the
-- database signs nobody in.
-- A signed-in moderator's session: who they are on which platform, and the CSRF token every
-- form of theirs carries.
CREATE TABLE web_sessions (
    token_hash  TEXT PRIMARY KEY,
    platform    TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    user_name   TEXT NOT NULL,
    csrf        TEXT NOT NULL,
    via         TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX web_sessions_by_user ON web_sessions (platform, user_id);
CREATE INDEX web_sessions_by_expiry ON web_sessions (expires_at);
-- A one-time sign-in link sent to a moderator in chat (`console`) or printed by `web link`.
CREATE TABLE web_login_links (
    token_hash  TEXT PRIMARY KEY,
    platform    TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    user_name   TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);
-- An OAuth sign-in under way: the state sent to the authorization server, checked once on return.
CREATE TABLE web_oauth_states (
    state_hash  TEXT PRIMARY KEY,
    provider    TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
-- The queue's filters and its order (most urgent first) read active tickets by status.
CREATE INDEX tickets_by_status_created ON tickets (status, created_at);
CREATE INDEX questions_by_faq ON questions (faq_id, asked_at);
