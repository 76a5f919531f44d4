-- +goose Up
-- The dashboard's trends keep the rows they read of each day (UTC) of
-- openings, and read again only the days whose version here moved
-- (storage/dashboard_trends.go). Triggers move a day's version whenever
-- an incident opened that day is added or removed, or changes a field the
-- trends read. A day without a row has not changed since this migration.
-- A day's version is the sum of its shards' (by incident ID modulo 16), so
-- that incidents opened at once do not all wait for one row (PostgreSQL
-- locks a row it updates until the transaction ends).
CREATE TABLE trend_days (
    day     TEXT NOT NULL,
    shard   INTEGER NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (day, shard)
) WITHOUT ROWID;

-- +goose StatementBegin
CREATE TRIGGER incidents_trend_insert AFTER INSERT ON incidents BEGIN
    INSERT INTO trend_days (day, shard, version) VALUES (date(new.opened_at), new.id % 16, 1)
        ON CONFLICT (day, shard) DO UPDATE SET version = version + 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER incidents_trend_delete AFTER DELETE ON incidents BEGIN
    INSERT INTO trend_days (day, shard, version) VALUES (date(old.opened_at), old.id % 16, 1)
        ON CONFLICT (day, shard) DO UPDATE SET version = version + 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER incidents_trend_update AFTER UPDATE OF opened_at, acknowledged_at, restored_at, resolved_at, closed_at, severity, cost, timebox
ON incidents WHEN old.opened_at IS NOT new.opened_at OR old.acknowledged_at IS NOT new.acknowledged_at
    OR old.restored_at IS NOT new.restored_at OR old.resolved_at IS NOT new.resolved_at OR old.closed_at IS NOT new.closed_at
    OR old.severity IS NOT new.severity OR old.cost IS NOT new.cost OR old.timebox IS NOT new.timebox
BEGIN
    INSERT INTO trend_days (day, shard, version) VALUES (date(new.opened_at), new.id % 16, 1)
        ON CONFLICT (day, shard) DO UPDATE SET version = version + 1;
    INSERT INTO trend_days (day, shard, version) SELECT date(old.opened_at), old.id % 16, 1 WHERE date(old.opened_at) <> date(new.opened_at)
        ON CONFLICT (day, shard) DO UPDATE SET version = version + 1;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER incidents_trend_update;
DROP TRIGGER incidents_trend_delete;
DROP TRIGGER incidents_trend_insert;
DROP TABLE trend_days;
