-- +goose Up
-- An incident opened by an alert is reported by a monitoring product
-- ("Alertmanager"), not a person: reporter_id is then empty and
-- reported_by names it.
ALTER TABLE incidents ADD COLUMN reported_by TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE incidents DROP COLUMN reported_by;
