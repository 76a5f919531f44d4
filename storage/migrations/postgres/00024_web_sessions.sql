-- +goose Up
-- Sessions of people signed in to the web dashboard with Slack. The
-- cookie holds a random secret; only its SHA-256 (id_hash) is kept, so the
-- table's rows cannot be replayed as cookies. expires_at slides with use
-- (idle limit) but never passes created_at plus the longest life.
CREATE TABLE web_sessions (
    id_hash      TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL,
    team_id      TEXT NOT NULL,
    name         TEXT NOT NULL,
    csrf_token   TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX web_sessions_expiry ON web_sessions (expires_at);

-- +goose Down
DROP TABLE web_sessions;
