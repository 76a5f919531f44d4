-- +goose Up
-- The web dashboard's incidents list and change search (storage/dashboard_*.go)
-- read these, so a page costs about the same with 100,000 incidents and a
-- million changes in the history as with a hundred.
-- Counts by status under any filter but a problem's, read from this index
-- alone (SQLite reads no table row for them).
CREATE INDEX incidents_counts ON incidents (status, severity, (CASE WHEN cost = '' THEN 0 ELSE (cost::jsonb ->> 'class')::int END), private, systems, opened_at);
-- The list by severity, and one severity newest first.
CREATE INDEX incidents_severity ON incidents (severity, number DESC);
-- The list by time to restore, either way, those not restored last.
CREATE INDEX incidents_ttr_asc ON incidents ((CASE WHEN restored_at IS NULL THEN 1e12 ELSE EXTRACT(EPOCH FROM restored_at - opened_at) END), number);
CREATE INDEX incidents_ttr_desc ON incidents ((CASE WHEN restored_at IS NULL THEN -1 ELSE EXTRACT(EPOCH FROM restored_at - opened_at) END), number);
-- One cost class, newest first: the class the cost was priced in.
CREATE INDEX incidents_cost_class ON incidents ((CASE WHEN cost = '' THEN 0 ELSE (cost::jsonb ->> 'class')::int END), number, status);
-- Changes by one person (any case) or of one kind, newest first.
CREATE INDEX changes_person ON changes (lower(person), occurred_at);
CREATE INDEX changes_kind ON changes (kind, occurred_at);
-- The verdicts on a change (its ID is the entry's subject).
CREATE INDEX timeline_entries_verdicts ON timeline_entries (subject, kind) WHERE kind IN ('suspect', 'unrelated');

-- The text of every change (summary and reason) as trigrams, so a search
-- for text that few changes hold finds them without reading the whole log.
-- pg_trgm ships with PostgreSQL and is trusted (a database owner may add
-- it); where it cannot be added the index is left out and the search
-- still works, reading the log. The extension goes to the public schema,
-- shared by every schema of the database.
-- +goose StatementBegin
DO $$
DECLARE
    trgm_schema name;
BEGIN
    BEGIN
        CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public;
    EXCEPTION WHEN OTHERS THEN
        RAISE NOTICE 'pg_trgm cannot be added (%): changes_text is left out', SQLERRM;
    END;
    SELECT n.nspname INTO trgm_schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm';
    IF trgm_schema IS NOT NULL THEN
        EXECUTE format('CREATE INDEX changes_text ON changes USING gin ((lower(summary || '' '' || reason)) %I.gin_trgm_ops)', trgm_schema);
    END IF;
END $$;
-- +goose StatementEnd

-- +goose Down
DROP INDEX IF EXISTS changes_text;
DROP INDEX timeline_entries_verdicts;
DROP INDEX changes_kind;
DROP INDEX changes_person;
DROP INDEX incidents_cost_class;
DROP INDEX incidents_ttr_desc;
DROP INDEX incidents_ttr_asc;
DROP INDEX incidents_severity;
DROP INDEX incidents_counts;
