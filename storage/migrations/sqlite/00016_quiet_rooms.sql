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

-- Who pinned which message to an incident's timeline (:pushpin:), so a
-- message pinned twice is one entry. The first pinner's row holds the entry.
CREATE TABLE message_pins (
    channel_id  TEXT NOT NULL,
    message_ts  TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    incident_id BIGINT NOT NULL REFERENCES incidents (id),
    pinned_at   TIMESTAMP NOT NULL,
    entry_id    BIGINT,
    PRIMARY KEY (channel_id, message_ts, user_id)
);

-- +goose Down
DROP TABLE message_pins;
DROP TABLE room_change_notices;
