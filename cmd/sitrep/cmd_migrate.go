package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/sitrep/sitrep/internal/config"
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
	store, err := openStore(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer store.Close()
	fmt.Fprintf(stdout, "database %s is up to date\n", store.Dialect())
	return nil
}
