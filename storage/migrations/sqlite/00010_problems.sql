-- +goose Up
-- Problems (the causes of incidents), their many-to-many links to
-- incidents, and each incident's customer cost: the entry as JSON
-- (incident.Cost) and its amount as a number for ranking in SQL.
CREATE TABLE problems (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    title      TEXT NOT NULL,
    status     TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    fix        TEXT NOT NULL DEFAULT '',
    closed_by  TEXT NOT NULL DEFAULT '',
    closed_at  TIMESTAMP
);

-- weight is the incident's share given to the problem: 1 / its number of
-- problems. The incident's opening and cost are copied here, rewritten
-- with it, so ranking problems over a window reads this table alone.
CREATE TABLE incident_problems (
    incident_id INTEGER NOT NULL REFERENCES incidents (id),
    problem_id  INTEGER NOT NULL REFERENCES problems (id),
    weight      REAL NOT NULL,
    opened_at   TIMESTAMP NOT NULL,
    cost_amount REAL,
    PRIMARY KEY (incident_id, problem_id)
);
CREATE INDEX incident_problems_problem ON incident_problems (problem_id, opened_at, weight, cost_amount);
CREATE INDEX incident_problems_window ON incident_problems (opened_at, problem_id, weight, cost_amount);

ALTER TABLE incidents ADD COLUMN cost TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN cost_amount REAL;
ALTER TABLE incidents ADD COLUMN problem_ids TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN problem_count INTEGER NOT NULL DEFAULT 0;
CREATE INDEX incidents_costs ON incidents (opened_at, cost_amount, problem_count);

-- +goose Down
DROP INDEX incidents_costs;
ALTER TABLE incidents DROP COLUMN problem_count;
ALTER TABLE incidents DROP COLUMN problem_ids;
ALTER TABLE incidents DROP COLUMN cost_amount;
ALTER TABLE incidents DROP COLUMN cost;
DROP TABLE incident_problems;
DROP TABLE problems;
