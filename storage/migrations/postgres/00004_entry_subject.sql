-- +goose Up
ALTER TABLE timeline_entries ADD COLUMN subject TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE timeline_entries DROP COLUMN subject;
