package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/clock"
	"github.com/sitrep/sitrep/internal/config"
	"github.com/sitrep/sitrep/internal/report"
)

const postmortemUsage = `Usage: sitrep postmortem export INC-n [--out FILE] [--private] [--db PATH]

Writes the postmortem of INC-n as Markdown to FILE (default: stdout). The
postmortem of a private incident holds its details: it is written only with
--private, for its room. Reads the database sitrep run uses: --db PATH, else
SITREP_DATABASE_URL, else ./sitrep.db if it exists.`

// runPostmortem handles "sitrep postmortem".
func runPostmortem(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "export" {
		fmt.Fprintln(stderr, postmortemUsage)
		return errUsage
	}
	args = args[1:]
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintln(stderr, "sitrep postmortem export: name the incident, e.g. INC-12")
		return errUsage
	}
	ref := args[0]
	fs := flag.NewFlagSet("postmortem export", flag.ContinueOnError)
	out := fs.String("out", "", "file to write (default: stdout)")
	db := fs.String("db", "", dbFlagHelp)
	private := fs.Bool("private", false, "write the postmortem of a private incident (its details are for its room only)")
	fs.Usage = func() { fmt.Fprintln(stderr, postmortemUsage); fs.PrintDefaults() }
	if err := parseFlags(fs, args[1:], stderr); err != nil {
		return err
	}
	number, err := strconv.ParseInt(strings.TrimPrefix(strings.ToUpper(ref), "INC-"), 10, 64)
	if err != nil || number <= 0 {
		return fmt.Errorf("%q is not an incident: write it as INC-12", ref)
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	review, err := cfg.OpsReview()
	if err != nil {
		return err
	}
	store, err := openExisting(ctx, cfg, *db, "sitrep postmortem export", dbReads, false)
	if err != nil {
		return err
	}
	defer store.Close()
	clk := clock.Real{}
	incidents := incident.NewService(store, clk)
	if names := documentNames(cfg); names != nil {
		incidents.SetNames(names)
	}
	inc, err := incidents.ByNumber(ctx, number)
	if errors.Is(err, incident.ErrNotFound) {
		return fmt.Errorf("there is no INC-%d", number)
	}
	if err != nil {
		return err
	}
	if inc.Private && !*private {
		return fmt.Errorf("%s is private: its postmortem holds details for its room only; add --private to write it anyway, and share it only with the room", inc.Ref())
	}
	pms := incident.NewPostmortems(store, incidents, incident.NewChangeLog(store, clk), clk)
	pms.SetLocation(review.Location)
	doc, err := pms.Document(ctx, inc.ID)
	if err != nil {
		return fmt.Errorf("%s: %w", inc.Ref(), err)
	}
	md := report.PostmortemMarkdown(doc)
	if *out == "" {
		_, err = io.WriteString(stdout, md)
		return err
	}
	if err := os.WriteFile(*out, []byte(md), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "wrote the postmortem of %s to %s\n", inc.Ref(), *out)
	return nil
}
