package alerts

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/sitrep/sitrep/alert"
	"github.com/sitrep/sitrep/incident"
)

// Bounds on what a parsed alert holds: the bot renders an alert into Block
// Kit (a header holds 150 characters, a section 3000) and the store keeps
// every alert, so nothing a sender writes may be unbounded. Text over a
// bound is cut, ending in "…"; an alert is never refused for its length.
// Each bound is within the domain's (alert.MaxTitle and its neighbours),
// so alert.Service keeps what the parsers give it as it is.
const (
	// MaxTitle is the runes of a title, which is one line: a Block Kit
	// header's 150.
	MaxTitle = 150
	// MaxSeverity is the runes of a severity word.
	MaxSeverity = 32
	// MaxDetails is the runes of the details (several lines).
	MaxDetails = 2000
	// MaxLink is the bytes of a link; a longer one is dropped.
	MaxLink = 2000
	// MaxKey is the bytes of a group key or fingerprint; a longer one (or
	// one holding control characters or invalid UTF-8) is replaced by
	// "sha256:" and the hex of its digest, which still tells keys apart.
	MaxKey = alert.MaxKey
	// MaxLabels is the labels an alert keeps (the first by name).
	MaxLabels = alert.MaxLabels
	// MaxLabelName and MaxLabelValue are the runes of one label's name and
	// value.
	MaxLabelName  = 100
	MaxLabelValue = alert.MaxLabel
	// MaxSystems is the systems an alert names, as an incident does.
	MaxSystems = incident.MaxSystems
	// MaxAlerts is the alerts one request may hold (alert.MaxBatch: one
	// transaction). A request with more is refused naming its alerts;
	// Alertmanager's and Grafana's max_alerts keep a notification under it.
	MaxAlerts = alert.MaxBatch
)

// line cleans s as one line (no control, bidi or zero-width characters;
// runs of white space folded) and cuts it to max runes.
func line(s string, max int) string { return clip(incident.NormalizeTitle(s), max) }

// para cleans s as text that may span lines and cuts it to max runes.
func para(s string, max int) string { return clip(incident.CleanText(s), max) }

// clip cuts s to at most max runes, the last of them "…" when cut.
func clip(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	n := 0
	for i := range s {
		if n == max-1 {
			return strings.TrimRight(s[:i], " \n") + "…"
		}
		n++
	}
	return s
}

// key bounds a group key or fingerprint. A key is compared, never shown
// alone, so it is kept byte for byte when it is short, valid UTF-8 without
// control characters (PostgreSQL refuses NUL), and hashed otherwise.
func key(s string) string {
	s = strings.TrimSpace(s)
	ok := len(s) <= MaxKey && utf8.ValidString(s)
	for i := 0; ok && i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			ok = false
		}
	}
	if ok {
		return s
	}
	sum := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// link returns s when it is an absolute http or https URL of at most
// MaxLink bytes with nothing that could break out of a Slack link
// (<url|label>), and "" otherwise.
func link(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > MaxLink || strings.ContainsAny(s, "<>| \"`\\") {
		return ""
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			return ""
		}
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return s
}

// labels bounds a label set: at most MaxLabels (the first by name), names
// and values cleaned to one line and cut; a label whose name cleans to
// nothing is dropped.
func labels(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	out := make(map[string]string, min(len(m), MaxLabels))
	for _, k := range names {
		if len(out) == MaxLabels {
			break
		}
		name := line(k, MaxLabelName)
		if name == "" {
			continue
		}
		if _, dup := out[name]; dup {
			continue
		}
		out[name] = line(m[k], MaxLabelValue)
	}
	return out
}

// systems normalises system names (incident.NormalizeSystem), dropping
// those that are not valid names and repeats, keeping at most MaxSystems.
func systems(names ...string) []string {
	var out []string
	for _, n := range names {
		for _, part := range strings.Split(n, ",") {
			s, err := incident.NormalizeSystem(part)
			if err != nil || slices.Contains(out, s) {
				continue
			}
			if len(out) == MaxSystems {
				return out
			}
			out = append(out, s)
		}
	}
	return out
}

// details writes lines ("name: value" or a paragraph) into one text
// bounded by MaxDetails.
type details struct {
	b strings.Builder
}

// add appends a paragraph, if it holds anything.
func (d *details) add(s string) {
	s = incident.CleanText(s)
	if s == "" || d.b.Len() > 4*MaxDetails {
		return
	}
	if d.b.Len() > 0 {
		d.b.WriteByte('\n')
	}
	d.b.WriteString(s)
}

// field appends "name: value", if value holds anything.
func (d *details) field(name, value string) {
	if v := incident.CleanText(value); v != "" {
		d.add(name + ": " + v)
	}
}

// String returns the text, cut to MaxDetails runes.
func (d *details) String() string { return clip(d.b.String(), MaxDetails) }

// fingerprintOf stands in for a fingerprint the sender did not give: the
// digest of the sorted labels, as Alertmanager's own fingerprint is, so
// the same alert gets the same one each time.
func fingerprintOf(m map[string]string) string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	h := sha256.New()
	for _, k := range names {
		h.Write([]byte(k))
		h.Write([]byte{0})
		h.Write([]byte(m[k]))
		h.Write([]byte{0})
	}
	return "labels:" + hex.EncodeToString(h.Sum(nil)[:8])
}

// titleOf makes an alert's title from its name and summary: "HighLatency:
// p99 over 2s on checkout", or whichever of the two it has.
func titleOf(name, summary string) string {
	name, summary = line(name, MaxTitle), line(summary, MaxTitle)
	switch {
	case name != "" && summary != "" && !strings.Contains(summary, name):
		return line(name+": "+summary, MaxTitle)
	case summary != "":
		return summary
	}
	return name
}
