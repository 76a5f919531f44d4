-- +goose Up
ALTER TABLE incidents ADD COLUMN roles TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE incidents DROP COLUMN roles;
