-- +goose Up
-- The web dashboard's incidents list and change search (storage/dashboard_*.go)
-- read these, so a page costs about the same with 100,000 incidents and a
-- million changes in the history as with a hundred.
-- Counts by status under any filter but a problem's, read from this index
-- alone (SQLite reads no table row for them).
CREATE INDEX incidents_counts ON incidents (status, severity, (CASE WHEN cost = '' THEN 0 ELSE json_extract(cost, '$.class') END), private, systems, opened_at);
-- The list by severity, and one severity newest first.
CREATE INDEX incidents_severity ON incidents (severity, number DESC);
-- The list by time to restore, either way, those not restored last.
CREATE INDEX incidents_ttr_asc ON incidents ((CASE WHEN restored_at IS NULL THEN 1e12 ELSE julianday(restored_at) - julianday(opened_at) END), number);
CREATE INDEX incidents_ttr_desc ON incidents ((CASE WHEN restored_at IS NULL THEN -1 ELSE julianday(restored_at) - julianday(opened_at) END), number);
-- One cost class, newest first: the class the cost was priced in.
CREATE INDEX incidents_cost_class ON incidents ((CASE WHEN cost = '' THEN 0 ELSE json_extract(cost, '$.class') END), number, status);
-- Changes by one person (any case) or of one kind, newest first.
CREATE INDEX changes_person ON changes (lower(person), occurred_at);
CREATE INDEX changes_kind ON changes (kind, occurred_at);
-- The verdicts on a change (its ID is the entry's subject).
CREATE INDEX timeline_entries_verdicts ON timeline_entries (subject, kind) WHERE kind IN ('suspect', 'unrelated');

-- The words of every change's summary and reason as trigrams, so a search
-- for text that few changes hold finds them without reading the whole log.
-- An external-content FTS5 table over changes, kept by triggers.
CREATE VIRTUAL TABLE changes_text USING fts5(summary, reason, content='changes', content_rowid='id', tokenize='trigram case_sensitive 0');
INSERT INTO changes_text (changes_text) VALUES ('rebuild');
-- +goose StatementBegin
CREATE TRIGGER changes_text_insert AFTER INSERT ON changes BEGIN
    INSERT INTO changes_text (rowid, summary, reason) VALUES (new.id, new.summary, new.reason);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER changes_text_delete AFTER DELETE ON changes BEGIN
    INSERT INTO changes_text (changes_text, rowid, summary, reason) VALUES ('delete', old.id, old.summary, old.reason);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER changes_text_update AFTER UPDATE OF summary, reason ON changes BEGIN
    INSERT INTO changes_text (changes_text, rowid, summary, reason) VALUES ('delete', old.id, old.summary, old.reason);
    INSERT INTO changes_text (rowid, summary, reason) VALUES (new.id, new.summary, new.reason);
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER changes_text_update;
DROP TRIGGER changes_text_delete;
DROP TRIGGER changes_text_insert;
DROP TABLE changes_text;
DROP INDEX timeline_entries_verdicts;
DROP INDEX changes_kind;
DROP INDEX changes_person;
DROP INDEX incidents_cost_class;
DROP INDEX incidents_ttr_desc;
DROP INDEX incidents_ttr_asc;
DROP INDEX incidents_severity;
DROP INDEX incidents_counts;
