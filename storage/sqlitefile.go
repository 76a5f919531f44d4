package storage

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// sqliteFileMode is the mode of the SQLite files sitrep creates: they hold
// every incident, change and Slack envelope, so only the owner reads them.
const sqliteFileMode = 0o600

// prepareSQLiteFile makes sure the database at path is readable by its
// owner only, whatever the process's umask: a new file is created with
// sqliteFileMode before SQLite opens it (SQLite then gives its -wal and
// -shm files the database's mode), and -wal, -shm and -journal files left
// from before are narrowed to it. An existing database keeps the mode its
// operator gave it. In-memory databases have no file.
func prepareSQLiteFile(path string) error {
	if path == "" || strings.HasPrefix(path, ":memory:") || strings.Contains(path, "mode=memory") {
		return nil
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, sqliteFileMode)
	switch {
	case err == nil:
		if err := f.Close(); err != nil {
			return fmt.Errorf("creating database file %s: %w", path, err)
		}
	case !errors.Is(err, fs.ErrExist):
		return fmt.Errorf("creating database file %s: %w", path, err)
	}
	for _, suffix := range []string{"-wal", "-shm", "-journal"} {
		// Not there, or another user's (whose mode is theirs to set): left.
		if err := os.Chmod(path+suffix, sqliteFileMode); err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, fs.ErrPermission) {
			return fmt.Errorf("making %s%s readable by its owner only: %w", path, suffix, err)
		}
	}
	return nil
}
