-- +goose Up
-- The runner instance that holds (or last held) a job's lease, so that a
-- restarted instance reclaims at once the jobs it was running when it died,
-- and only the claim that holds a job may renew or finish it.
ALTER TABLE jobs ADD COLUMN locked_by TEXT NOT NULL DEFAULT '';
-- Claims read due jobs in (due_at, id) order: with id in the index a claim
-- reads a few rows, not every due job, however long the backlog.
CREATE INDEX jobs_claim ON jobs (state, due_at, id);
DROP INDEX jobs_state_due;

-- +goose Down
CREATE INDEX jobs_state_due ON jobs (state, due_at);
DROP INDEX jobs_claim;
ALTER TABLE jobs DROP COLUMN locked_by;
