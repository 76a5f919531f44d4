-- +goose Up
-- Alert intake (issue 20, package alert). A group folds an alert and its
-- repeats together: one per (source, key). SQLite's one writer serialises
-- intakes.
CREATE TABLE alert_groups (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    source         TEXT NOT NULL,
    key            TEXT NOT NULL,
    route          TEXT NOT NULL,
    action         TEXT NOT NULL,
    title          TEXT NOT NULL,
    severity       TEXT NOT NULL,
    labels         TEXT NOT NULL,
    systems        TEXT NOT NULL,
    link           TEXT NOT NULL,
    details        TEXT NOT NULL,
    status         TEXT NOT NULL,
    received       INTEGER NOT NULL,
    firing         INTEGER NOT NULL,
    first_seen     TIMESTAMP NOT NULL,
    last_seen      TIMESTAMP NOT NULL,
    resolved_at    TIMESTAMP,
    storm          BOOLEAN NOT NULL,
    storm_minute   TIMESTAMP,
    triage_channel TEXT NOT NULL,
    triage_ts      TEXT NOT NULL,
    incident_id    BIGINT,
    change_id      BIGINT,
    decision       TEXT NOT NULL,
    decided_by     TEXT NOT NULL,
    decided_at     TIMESTAMP,
    reason         TEXT NOT NULL,
    version        BIGINT NOT NULL,
    refreshed      TIMESTAMP,
    UNIQUE (source, key)
);
-- The alerts an incident shows; a storm digest's groups.
CREATE INDEX alert_groups_incident ON alert_groups (incident_id) WHERE incident_id IS NOT NULL;
CREATE INDEX alert_groups_storm ON alert_groups (route, storm_minute) WHERE storm;

-- The fingerprints seen in a group and where each is: a group is resolved
-- when every one of them is.
CREATE TABLE alert_members (
    group_id    BIGINT NOT NULL REFERENCES alert_groups (id),
    fingerprint TEXT NOT NULL,
    status      TEXT NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (group_id, fingerprint)
);

-- Every accepted alert, as received.
-- Never deleted, so a plain rowid (no AUTOINCREMENT bookkeeping per insert).
CREATE TABLE alerts (
    id          INTEGER PRIMARY KEY,
    group_id    BIGINT NOT NULL REFERENCES alert_groups (id),
    source      TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status      TEXT NOT NULL,
    title       TEXT NOT NULL,
    severity    TEXT NOT NULL,
    labels      TEXT NOT NULL,
    systems     TEXT NOT NULL,
    search_name TEXT NOT NULL,
    link        TEXT NOT NULL,
    details     TEXT NOT NULL,
    starts_at   TIMESTAMP,
    ends_at     TIMESTAMP,
    received_at TIMESTAMP NOT NULL
);
CREATE INDEX alerts_received ON alerts (received_at);
CREATE INDEX alerts_group ON alerts (group_id, id);

-- The new messages each route posted in each minute (storm control).
CREATE TABLE alert_storm (
    route  TEXT NOT NULL,
    minute TIMESTAMP NOT NULL,
    count  INTEGER NOT NULL,
    PRIMARY KEY (route, minute)
);

-- +goose Down
DROP TABLE alert_storm;
DROP TABLE alerts;
DROP TABLE alert_members;
DROP TABLE alert_groups;
