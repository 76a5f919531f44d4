// Package pgtest gives each test its own PostgreSQL schema, so tests that
// share the database in SITREP_TEST_DATABASE_URL run in parallel without
// seeing each other's rows.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	_ "github.com/lib/pq" // driver "postgres"
)

// EnvVar names the PostgreSQL database that tests may use.
const EnvVar = "SITREP_TEST_DATABASE_URL"

// URL returns a database URL whose search_path is a new, empty schema,
// dropped when the test ends. It skips the test, saying why, when EnvVar is
// not set, and fails it when the database cannot be reached.
func URL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvVar)
	if base == "" {
		t.Skip(EnvVar + " not set: skipping PostgreSQL")
	}
	return SchemaURL(t, base)
}

// SchemaURL is URL for an explicit base URL.
func SchemaURL(t testing.TB, base string) string {
	t.Helper()
	db, err := sql.Open("postgres", base)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var buf [6]byte
	_, _ = rand.Read(buf[:])
	schema := "t_" + hex.EncodeToString(buf[:])
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		db.Close()
		t.Fatalf("pgtest: creating schema in %s: %v", EnvVar, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := db.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("pgtest: dropping schema %s: %v", schema, err)
		}
		db.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("pgtest: %s is not a URL: %v", EnvVar, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
