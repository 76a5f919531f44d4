-- +goose Up
-- The inbox: every Socket Mode envelope, written before it is acknowledged
-- and processed from here (internal/inbox). It replaces the deliveries
-- table, which only remembered the keys of envelopes seen.
CREATE TABLE inbox (
    key          TEXT PRIMARY KEY,
    envelope_id  TEXT NOT NULL,
    type         TEXT NOT NULL,
    payload      TEXT NOT NULL,
    received_at  TIMESTAMPTZ NOT NULL,
    state        TEXT NOT NULL,
    attempts     INTEGER NOT NULL,
    locked_by    TEXT NOT NULL,
    locked_until TIMESTAMPTZ,
    finished_at  TIMESTAMPTZ,
    last_error   TEXT NOT NULL
);
-- Only unfinished envelopes are looked up (claims); pruning, hourly, reads
-- the table through. Each index is paid for on every ack.
CREATE INDEX inbox_unfinished ON inbox (locked_until) WHERE state = 'received';
DROP TABLE deliveries;

-- +goose Down
CREATE TABLE deliveries (
    key     TEXT PRIMARY KEY,
    seen_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX deliveries_seen ON deliveries (seen_at);
DROP TABLE inbox;
