-- +goose Up
-- The dashboard's trends keep the rows they read of each day (UTC) of
-- openings, and read again only the days whose version here moved
-- (storage/dashboard_trends.go). A trigger moves a day's version whenever
-- an incident opened that day is added or removed, or changes a field the
-- trends read. A day without a row has not changed since this migration.
-- A day's version is the sum of its shards' (by incident ID modulo 16), so
-- that incidents opened at once do not all wait for one row (an updated
-- row stays locked until its transaction ends).
CREATE TABLE trend_days (
    day     TEXT NOT NULL,
    shard   INT NOT NULL,
    version BIGINT NOT NULL,
    PRIMARY KEY (day, shard)
);

-- +goose StatementBegin
CREATE FUNCTION incidents_trend_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO trend_days (day, shard, version) VALUES (to_char(NEW.opened_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), NEW.id % 16, 1)
            ON CONFLICT (day, shard) DO UPDATE SET version = trend_days.version + 1;
    END IF;
    IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND (OLD.opened_at AT TIME ZONE 'UTC')::date <> (NEW.opened_at AT TIME ZONE 'UTC')::date) THEN
        INSERT INTO trend_days (day, shard, version) VALUES (to_char(OLD.opened_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), OLD.id % 16, 1)
            ON CONFLICT (day, shard) DO UPDATE SET version = trend_days.version + 1;
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER incidents_trend_insert AFTER INSERT OR DELETE ON incidents
    FOR EACH ROW EXECUTE FUNCTION incidents_trend_bump();
CREATE TRIGGER incidents_trend_update AFTER UPDATE ON incidents FOR EACH ROW
    WHEN (OLD.opened_at IS DISTINCT FROM NEW.opened_at OR OLD.acknowledged_at IS DISTINCT FROM NEW.acknowledged_at
        OR OLD.restored_at IS DISTINCT FROM NEW.restored_at OR OLD.resolved_at IS DISTINCT FROM NEW.resolved_at
        OR OLD.closed_at IS DISTINCT FROM NEW.closed_at OR OLD.severity IS DISTINCT FROM NEW.severity
        OR OLD.cost IS DISTINCT FROM NEW.cost OR OLD.timebox IS DISTINCT FROM NEW.timebox)
    EXECUTE FUNCTION incidents_trend_bump();

-- +goose Down
DROP TRIGGER incidents_trend_update ON incidents;
DROP TRIGGER incidents_trend_insert ON incidents;
DROP FUNCTION incidents_trend_bump();
DROP TABLE trend_days;
