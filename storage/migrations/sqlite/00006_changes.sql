-- +goose Up
CREATE TABLE changes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    occurred_at TIMESTAMP NOT NULL,
    systems     TEXT NOT NULL,
    person      TEXT NOT NULL,
    summary     TEXT NOT NULL,
    reason      TEXT NOT NULL DEFAULT '',
    kind        TEXT NOT NULL,
    link        TEXT NOT NULL DEFAULT '',
    source      TEXT NOT NULL,
    external_id TEXT UNIQUE,
    logged_at   TIMESTAMP NOT NULL
);
CREATE INDEX changes_occurred ON changes (occurred_at);

-- One row per system changed, so "the last changes to these systems" walks
-- an index on (system, occurred_at).
CREATE TABLE change_systems (
    change_id   BIGINT NOT NULL REFERENCES changes (id),
    system      TEXT NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    PRIMARY KEY (system, occurred_at, change_id)
);

-- +goose Down
DROP TABLE change_systems;
DROP TABLE changes;
