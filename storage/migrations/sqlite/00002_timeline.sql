-- +goose Up
ALTER TABLE incidents ADD COLUMN acknowledged_at TIMESTAMP;
ALTER TABLE incidents ADD COLUMN restored_at TIMESTAMP;
ALTER TABLE incidents ADD COLUMN resolved_at TIMESTAMP;

CREATE TABLE timeline_entries (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id BIGINT NOT NULL REFERENCES incidents (id),
    at          TIMESTAMP NOT NULL,
    actor       TEXT NOT NULL,
    kind        TEXT NOT NULL,
    text        TEXT NOT NULL
);
CREATE INDEX timeline_entries_incident ON timeline_entries (incident_id, at, id);

-- +goose Down
DROP TABLE timeline_entries;
ALTER TABLE incidents DROP COLUMN resolved_at;
ALTER TABLE incidents DROP COLUMN restored_at;
ALTER TABLE incidents DROP COLUMN acknowledged_at;
