-- +goose Up
-- The inbox: every Socket Mode envelope, written before it is acknowledged
-- and processed from here (internal/inbox). It replaces the deliveries
-- table, which only remembered the keys of envelopes seen.
CREATE TABLE inbox (
    key          TEXT PRIMARY KEY,
    envelope_id  TEXT NOT NULL,
    type         TEXT NOT NULL,
    payload      BLOB NOT NULL,
    received_at  TIMESTAMP NOT NULL,
    state        TEXT NOT NULL,
    attempts     INTEGER NOT NULL,
    locked_by    TEXT NOT NULL,
    locked_until TIMESTAMP,
    finished_at  TIMESTAMP,
    last_error   TEXT NOT NULL
);
CREATE INDEX inbox_unfinished ON inbox (state, locked_until);
CREATE INDEX inbox_received ON inbox (received_at);
DROP TABLE deliveries;

-- +goose Down
CREATE TABLE deliveries (
    key     TEXT PRIMARY KEY,
    seen_at TIMESTAMP NOT NULL
);
CREATE INDEX deliveries_seen ON deliveries (seen_at);
DROP TABLE inbox;
