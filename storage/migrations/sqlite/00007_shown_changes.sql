-- +goose Up
-- The changes an incident's room was shown, so the list re-renders the same.
CREATE TABLE incident_changes (
    incident_id BIGINT NOT NULL REFERENCES incidents (id),
    change_id   BIGINT NOT NULL REFERENCES changes (id),
    position    INTEGER NOT NULL,
    other       BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (incident_id, change_id)
);
ALTER TABLE incident_rooms ADD COLUMN changes_ts TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE incident_rooms DROP COLUMN changes_ts;
DROP TABLE incident_changes;
