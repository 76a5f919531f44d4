package slacksim

import (
	"os"
	"path/filepath"
	"strings"
)

// maxSafeName caps the length of a file's name on disk (the ID and "-" come
// on top), well under the 255 bytes file systems allow.
const maxSafeName = 100

// writeFileLocked writes a completed upload's bytes to Options.FilesDir and
// records where in f.Path. A failure is logged and leaves f.Path empty: the
// upload itself succeeds, as in Slack, whose disks are not the caller's
// business. Call with s.mu held.
func (s *Sim) writeFileLocked(f *file) {
	if s.opts.FilesDir == "" {
		return
	}
	path := filepath.Join(s.opts.FilesDir, f.ID+"-"+SafeFileName(f.Name))
	if err := os.MkdirAll(s.opts.FilesDir, 0o755); err != nil {
		s.log.Error("slacksim: making the files folder", "dir", s.opts.FilesDir, "err", err)
		return
	}
	if err := os.WriteFile(path, f.Content, 0o644); err != nil {
		s.log.Error("slacksim: writing an uploaded file", "file", f.ID, "err", err)
		return
	}
	f.Path = path
}

// SafeFileName turns the filename a client sent with
// files.getUploadURLExternal into one that is safe as a single path element
// on any system: only the last element of a path is kept ("../../x.png" and
// "C:\dir\x.png" become "x.png"), every character other than an ASCII
// letter, digit, '.', '-' or '_' becomes '_', leading dots are dropped (no
// hidden files, no ".."), and the result keeps at most 100 bytes (with its
// extension). A name with nothing left is "file".
func SafeFileName(name string) string {
	name = strings.ReplaceAll(name, `\`, "/")
	if i := strings.LastIndex(name, "/"); i >= 0 {
		name = name[i+1:]
	}
	var b strings.Builder
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	out := strings.TrimLeft(b.String(), ".")
	if len(out) > maxSafeName {
		ext := filepath.Ext(out)
		if len(ext) > 16 {
			ext = ""
		}
		out = out[:maxSafeName-len(ext)] + ext
	}
	if strings.Trim(out, "_.") == "" {
		return "file"
	}
	return out
}
