-- +goose Up
-- Postmortems, one per incident, as a JSON document (incident.Postmortem),
-- and their actions mirrored for "my open actions" and overdue reports.
CREATE TABLE postmortems (
    incident_id BIGINT PRIMARY KEY REFERENCES incidents (id),
    doc         TEXT NOT NULL,
    version     INTEGER NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE postmortem_actions (
    incident_id BIGINT NOT NULL REFERENCES postmortems (incident_id),
    action_id   INTEGER NOT NULL,
    owner       TEXT NOT NULL,
    due         TIMESTAMPTZ NOT NULL,
    done        BOOLEAN NOT NULL,
    PRIMARY KEY (incident_id, action_id)
);
CREATE INDEX postmortem_actions_open ON postmortem_actions (done, owner, due);

-- +goose Down
DROP TABLE postmortem_actions;
DROP TABLE postmortems;
