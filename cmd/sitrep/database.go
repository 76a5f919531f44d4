package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/sitrep/sitrep/internal/config"
	"github.com/sitrep/sitrep/storage"
)

// dbFlagHelp is the help of --db, the flag that names an SQLite file for
// one command.
const dbFlagHelp = "the SQLite database file (default: SITREP_DATABASE_URL; for PostgreSQL set that)"

// dbUse says what a command does with its database.
type dbUse int

const (
	// dbReads: the command only reads (change list, report, postmortem
	// export); it never creates a database, not even one named.
	dbReads dbUse = iota
	// dbAdds: the command writes to the database (change add); it creates
	// one only where the user named it.
	dbAdds
)

// databaseURL returns the database a command other than run, migrate and
// demo opens: --db's file, else SITREP_DATABASE_URL, else the default
// sitrep.db, but only if it exists. Such a command never creates a
// database no running sitrep reads: a change logged there would be lost,
// a report read there would be empty. cmd names the command in the error;
// viaAPI adds SITREP_URL to the ways out it lists.
func databaseURL(cfg config.Config, dbFlag, cmd string, use dbUse, viaAPI bool) (string, error) {
	url, named := cfg.DatabaseURL, cfg.DatabaseURLSet
	if dbFlag != "" {
		if strings.Contains(dbFlag, "://") || strings.HasPrefix(dbFlag, "sqlite:") {
			return "", fmt.Errorf("--db %s: give the path of an SQLite file, e.g. --db /var/lib/sitrep/sitrep.db; for PostgreSQL set SITREP_DATABASE_URL=postgres://…", redactURL(dbFlag))
		}
		url, named = "sqlite:"+dbFlag, true
	}
	path, ok := sqlitePath(url)
	if !ok {
		return url, nil // PostgreSQL: it exists or Open says why not.
	}
	_, err := os.Stat(path)
	switch {
	case err == nil:
		return url, nil
	case !errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("database %s: %w", path, err)
	case named && use == dbAdds:
		return url, nil
	}
	abs, aerr := filepath.Abs(path)
	if aerr != nil {
		abs = path
	}
	why := "a new one would be empty"
	if use == dbAdds {
		why = "a change logged in a new one would be seen by no running sitrep"
	}
	var b strings.Builder
	switch {
	case dbFlag != "":
		fmt.Fprintf(&b, "there is no database at %s (--db): %s reads an existing database and does not create one.\n", abs, cmd)
	case named:
		fmt.Fprintf(&b, "there is no database at %s (SITREP_DATABASE_URL=%s): %s reads an existing database and does not create one.\n", abs, url, cmd)
	default:
		fmt.Fprintf(&b, "no database: SITREP_DATABASE_URL is not set, and its default, %s (%s), does not exist. %s does not create a database: %s.\n", config.DefaultDatabaseURL, abs, cmd, why)
	}
	b.WriteString("Name the database sitrep run uses:\n")
	b.WriteString("  SITREP_DATABASE_URL=sqlite:/path/to/sitrep.db   (or postgres://user@host/db)\n")
	b.WriteString("  --db /path/to/sitrep.db                          (an SQLite file, for this command only)\n")
	if viaAPI {
		b.WriteString("or log through a running sitrep's HTTP API, without database credentials:\n")
		b.WriteString("  SITREP_URL=http://127.0.0.1:8080 SITREP_API_TOKEN=<its API token>\n")
	}
	b.WriteString("(sitrep migrate creates a new database.)")
	return "", errors.New(b.String())
}

// sqlitePath returns the file of an SQLite database URL, as storage.Open
// reads it, and false for PostgreSQL.
func sqlitePath(url string) (string, bool) {
	if strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://") || (strings.Contains(url, "://") && !strings.HasPrefix(url, "sqlite:")) {
		return "", false
	}
	path := strings.TrimPrefix(strings.TrimPrefix(url, "sqlite:"), "//")
	if path == "" {
		path = "sitrep.db"
	}
	return path, true
}

// redactURL hides a password in a URL written in an error.
func redactURL(s string) string {
	if i := strings.Index(s, "://"); i >= 0 {
		if at := strings.LastIndex(s, "@"); at > i {
			return s[:i+3] + "…" + s[at:]
		}
	}
	return s
}

// openExisting opens (and migrates) the database databaseURL returns.
func openExisting(ctx context.Context, cfg config.Config, dbFlag, cmd string, use dbUse, viaAPI bool) (*storage.Store, error) {
	url, err := databaseURL(cfg, dbFlag, cmd, use, viaAPI)
	if err != nil {
		return nil, err
	}
	return openStore(ctx, url)
}
