-- +goose Up
-- A private incident runs in a private channel; outside it only its
-- number, severity and TDO are shown. Once private, never public again.
ALTER TABLE incidents ADD COLUMN private BOOLEAN NOT NULL DEFAULT FALSE;

-- +goose Down
ALTER TABLE incidents DROP COLUMN private;
