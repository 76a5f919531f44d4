-- +goose Up
-- The plan of attack an incident opened with, and its diagnosis clock, as
-- JSON (incident.Plan, incident.Timebox); the room's plan message.
ALTER TABLE incidents ADD COLUMN plan TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN timebox TEXT NOT NULL DEFAULT '';
ALTER TABLE incident_rooms ADD COLUMN plan_ts TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE incident_rooms DROP COLUMN plan_ts;
ALTER TABLE incidents DROP COLUMN timebox;
ALTER TABLE incidents DROP COLUMN plan;
