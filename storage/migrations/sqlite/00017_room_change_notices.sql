-- +goose Up
-- Changes logged one by one to an open incident's systems wait here to be
-- told to its room together: one message per window (notice) of a minute.
CREATE TABLE room_change_notices (
    incident_id BIGINT NOT NULL REFERENCES incidents (id),
    change_id   BIGINT NOT NULL REFERENCES changes (id),
    notice      TEXT NOT NULL,
    due_at      TIMESTAMP NOT NULL,
    told_at     TIMESTAMP,
    PRIMARY KEY (incident_id, change_id)
);
CREATE INDEX room_change_notices_notice ON room_change_notices (notice);
CREATE INDEX room_change_notices_open ON room_change_notices (incident_id, due_at);

-- +goose Down
DROP TABLE room_change_notices;
