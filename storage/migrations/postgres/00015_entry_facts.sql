-- +goose Up
-- What a timeline entry states (severity then, both people of a hand-over
-- or role, their names as they were), as JSON, written once; and what the
-- opening entry states, fixed at open.
ALTER TABLE timeline_entries ADD COLUMN facts TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN opening TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE incidents DROP COLUMN opening;
ALTER TABLE timeline_entries DROP COLUMN facts;
