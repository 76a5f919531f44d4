-- +goose Up
-- Release checklist runs and what was done to them, one event per click.
CREATE TABLE checklist_runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    template    TEXT NOT NULL,
    title       TEXT NOT NULL,
    system      TEXT NOT NULL DEFAULT '',
    label       TEXT NOT NULL DEFAULT '',
    steps       TEXT NOT NULL,
    channel_id  TEXT NOT NULL,
    message_ts  TEXT NOT NULL DEFAULT '',
    started_by  TEXT NOT NULL,
    started_at  TIMESTAMP NOT NULL,
    state       TEXT NOT NULL,
    ended_at    TIMESTAMP,
    reason      TEXT NOT NULL DEFAULT '',
    version     INTEGER NOT NULL DEFAULT 0,
    request_key TEXT UNIQUE
);
CREATE INDEX checklist_runs_state ON checklist_runs (state, id);

CREATE TABLE checklist_events (
    run_id BIGINT NOT NULL REFERENCES checklist_runs (id),
    seq    INTEGER NOT NULL,
    at     TIMESTAMP NOT NULL,
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,
    step   INTEGER NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (run_id, seq)
);

-- +goose Down
DROP TABLE checklist_events;
DROP TABLE checklist_runs;
