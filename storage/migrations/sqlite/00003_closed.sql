-- +goose Up
ALTER TABLE incidents ADD COLUMN closed_at TIMESTAMP;

-- +goose Down
ALTER TABLE incidents DROP COLUMN closed_at;
