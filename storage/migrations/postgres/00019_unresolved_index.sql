-- +goose Up
-- The incidents not yet resolved are read on every /incident list and for
-- every change logged: a partial index keeps that as cheap with 100,000
-- incidents in the history as with 100.
CREATE INDEX incidents_unresolved ON incidents (number DESC) WHERE status <> 'resolved';

-- +goose Down
DROP INDEX incidents_unresolved;
