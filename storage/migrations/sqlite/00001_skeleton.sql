-- +goose Up
CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('incident', 0);

CREATE TABLE incidents (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    number      BIGINT NOT NULL UNIQUE,
    title       TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    severity    INTEGER NOT NULL,
    status      TEXT NOT NULL,
    systems     TEXT NOT NULL DEFAULT '',
    reporter_id TEXT NOT NULL,
    tdo_id      TEXT NOT NULL,
    reported_in TEXT NOT NULL DEFAULT '',
    request_key TEXT UNIQUE,
    opened_at   TIMESTAMP NOT NULL
);

CREATE TABLE incident_rooms (
    incident_id     BIGINT PRIMARY KEY REFERENCES incidents (id),
    channel_id      TEXT UNIQUE,
    channel_name    TEXT NOT NULL DEFAULT '',
    header_ts       TEXT NOT NULL DEFAULT '',
    announcement_ts TEXT NOT NULL DEFAULT '',
    done            TEXT NOT NULL DEFAULT '',
    ready           BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at      TIMESTAMP NOT NULL
);

CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind         TEXT NOT NULL,
    key          TEXT UNIQUE,
    payload      BLOB,
    due_at       TIMESTAMP NOT NULL,
    state        TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT NOT NULL DEFAULT '',
    locked_until TIMESTAMP,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);
CREATE INDEX jobs_state_due ON jobs (state, due_at);

CREATE TABLE deliveries (
    key     TEXT PRIMARY KEY,
    seen_at TIMESTAMP NOT NULL
);
CREATE INDEX deliveries_seen ON deliveries (seen_at);

-- +goose Down
DROP TABLE deliveries;
DROP TABLE jobs;
DROP TABLE incident_rooms;
DROP TABLE incidents;
DROP TABLE counters;
