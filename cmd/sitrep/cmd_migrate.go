package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/sitrep/sitrep/internal/config"
	"github.com/sitrep/sitrep/storage"
)

// runMigrate is `sitrep migrate`: apply the database migrations and exit.
func runMigrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: sitrep migrate\n\nApplies migrations to SITREP_DATABASE_URL (default sqlite:sitrep.db).")
	}
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	store, err := storage.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer store.Close()
	m, err := store.MigrateUp(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, migrateText(store.Dialect(), m))
	return nil
}

// migrateText says what `sitrep migrate` did: "database sqlite: applied 11
// migrations; now at version 11", or "database sqlite is already up to
// date at version 11".
func migrateText(dialect string, m storage.Migration) string {
	switch m.Applied {
	case 0:
		return fmt.Sprintf("database %s is already up to date at version %d", dialect, m.Version)
	case 1:
		return fmt.Sprintf("database %s: applied 1 migration; now at version %d", dialect, m.Version)
	}
	return fmt.Sprintf("database %s: applied %d migrations; now at version %d", dialect, m.Applied, m.Version)
}
