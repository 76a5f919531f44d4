-- +goose Up
-- The inbox replaces the deliveries table, which only remembered the keys
-- of envelopes seen. On SQLite the inbox lives in a file of its own beside
-- the database (storage/inbox.go: inboxPath, sqliteInboxSchema), so that
-- recording an envelope never waits for the database's single writer.
DROP TABLE deliveries;

-- +goose Down
CREATE TABLE deliveries (
    key     TEXT PRIMARY KEY,
    seen_at TIMESTAMP NOT NULL
);
CREATE INDEX deliveries_seen ON deliveries (seen_at);
