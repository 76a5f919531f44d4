-- +goose Up
-- Each problem's all-time tally of its incidents (how many, how many
-- without a cost, their cost split evenly among their problems), kept
-- with incident_problems in the same transaction, so /problem list reads
-- one row per open problem however long the history.
ALTER TABLE problems ADD COLUMN tally_incidents INTEGER NOT NULL DEFAULT 0;
ALTER TABLE problems ADD COLUMN tally_uncosted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE problems ADD COLUMN tally_cost DOUBLE PRECISION NOT NULL DEFAULT 0;
UPDATE problems SET
    tally_incidents = (SELECT COUNT(*) FROM incident_problems ip WHERE ip.problem_id = problems.id),
    tally_uncosted = (SELECT COUNT(*) - COUNT(ip.cost_amount) FROM incident_problems ip WHERE ip.problem_id = problems.id),
    tally_cost = (SELECT COALESCE(SUM(ip.cost_amount * ip.weight), 0) FROM incident_problems ip WHERE ip.problem_id = problems.id);

-- +goose Down
ALTER TABLE problems DROP COLUMN tally_cost;
ALTER TABLE problems DROP COLUMN tally_uncosted;
ALTER TABLE problems DROP COLUMN tally_incidents;
