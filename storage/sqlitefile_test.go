package storage_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/storage"
)

// TestSQLiteFilesOwnerOnly opens a new SQLite database under a umask that
// takes nothing away (so SQLite's own default, 0644, would show) and checks
// that every file of it — the database, its inbox, their -wal and -shm —
// is readable by its owner only; a -wal left world-readable from before is
// narrowed. Not parallel: the umask is the process's.
func TestSQLiteFilesOwnerOnly(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)

	dir := t.TempDir()
	path := filepath.Join(dir, "sitrep.db")
	leftover := filepath.Join(dir, "old.db-wal")
	if err := os.WriteFile(leftover, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, filepath.Join(dir, "old.db")} {
		store, err := storage.Open(context.Background(), "sqlite:"+p)
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close()
		if err := store.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		// A write, so the write-ahead log and its index exist.
		if err := store.Ping(context.Background()); err != nil {
			t.Fatal(err)
		}
		if _, err := incident.NewChangeLog(store, fixedClock{}).Log(context.Background(),
			[]incident.Change{{Systems: []string{"web"}, Person: "ci", Summary: "deployed", Source: incident.SourceAPI}}); err != nil {
			t.Fatal(err)
		}
	}
	files, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"sitrep.db": false, "sitrep.db-wal": false, "sitrep.db-shm": false,
		"sitrep.inbox.db": false, "sitrep.inbox.db-wal": false, "old.db-wal": false}
	for _, f := range files {
		info, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(f)
		if _, ok := want[name]; ok {
			want[name] = true
		}
		if mode := info.Mode().Perm(); mode != 0o600 {
			t.Errorf("%s has mode %v, want -rw------- (0600)", name, fs.FileMode(mode))
		}
	}
	for name, seen := range want {
		if !seen {
			t.Errorf("%s was not created (files: %v): the test checks nothing of it", name, files)
		}
	}
}

// fixedClock is a clock that always reads the same time.
type fixedClock struct{}

func (fixedClock) Now() time.Time { return time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC) }
