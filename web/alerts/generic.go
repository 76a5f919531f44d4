package alerts

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/sitrep/sitrep/alert"
)

// genericFields are the fields of the generic format, in the order docs
// list them.
var genericFields = []string{"key", "title", "severity", "systems", "status", "link", "details", "labels"}

// parseGeneric reads sitrep's own alert format, for any tool that can send
// JSON: one object, or an array of them, each
//
//	{
//	  "key":      "checkout-latency",        // required: groups repeats
//	  "title":    "Checkout p99 over 2s",    // required: one line
//	  "severity": "critical",                // optional: the tool's word
//	  "systems":  ["checkout", "payments"],  // optional
//	  "status":   "firing",                  // optional: firing (default) or resolved
//	  "link":     "https://grafana.example/d/abc", // optional: http(s)
//	  "details":  "free text",               // optional
//	  "labels":   {"team": "shop"}           // optional: strings
//	}
//
// Since the format is sitrep's, a field it does not know, a system name
// it cannot read and a link that is not http(s) are refused rather than
// dropped, naming the field ("[2].systems[0]" in an array).
func parseGeneric(body []byte) ([]alert.Alert, error) {
	trimmed := bytes.TrimSpace(body)
	if jsonKind(trimmed) == "array" {
		var items []json.RawMessage
		if err := json.Unmarshal(trimmed, &items); err != nil {
			return nil, syntaxProblem("", err)
		}
		if len(items) == 0 {
			return nil, bad("", "the array is empty: send at least one alert")
		}
		out := make([]alert.Alert, 0, len(items))
		for i, raw := range items {
			a, err := readGeneric(fmt.Sprintf("[%d]", i), raw)
			if err != nil {
				return nil, err
			}
			out = append(out, a)
		}
		return out, nil
	}
	if jsonKind(trimmed) != "object" {
		return nil, bad("", "the body must be a JSON object (one alert) or an array of them, not %s", withArticle(jsonKind(trimmed)))
	}
	a, err := readGeneric("", trimmed)
	if err != nil {
		return nil, err
	}
	return []alert.Alert{a}, nil
}

// readGeneric reads one generic alert found at path.
func readGeneric(path string, raw []byte) (alert.Alert, error) {
	o, err := readObject(path, raw)
	if err != nil {
		return alert.Alert{}, err
	}
	if err := o.only(genericFields...); err != nil {
		return alert.Alert{}, err
	}
	k, err := o.required("key", "it groups the alert's repeats, as \"checkout-latency\"")
	if err != nil {
		return alert.Alert{}, err
	}
	title, err := o.required("title", "one line that says what is wrong")
	if err != nil {
		return alert.Alert{}, err
	}
	a := alert.Alert{Source: alert.SourceGeneric, GroupKey: key(k), Title: line(title, MaxTitle)}
	if a.Title == "" {
		return alert.Alert{}, bad(o.at("title"), "holds no visible text: write one line that says what is wrong")
	}
	st, err := o.str("status")
	if err != nil {
		return alert.Alert{}, err
	}
	switch st {
	case "", "firing":
		a.Status = alert.StatusFiring
	case "resolved":
		a.Status = alert.StatusResolved
	default:
		return alert.Alert{}, bad(o.at("status"), `must be "firing" or "resolved", not %q`, cut(st, 20))
	}
	sev, err := o.str("severity")
	if err != nil {
		return alert.Alert{}, err
	}
	a.Severity = line(sev, MaxSeverity)
	names, err := o.strList("systems")
	if err != nil {
		return alert.Alert{}, err
	}
	if len(names) > MaxSystems {
		return alert.Alert{}, bad(o.at("systems"), "names %d systems: an alert names at most %d", len(names), MaxSystems)
	}
	for i, n := range names {
		if len(systems(n)) != 1 || n != "" && bytes.ContainsRune([]byte(n), ',') {
			return alert.Alert{}, bad(item(o.at("systems"), i), "%q is not a system name: letters a-z, digits and - _ . (starting with a letter or digit), at most 40", cut(n, 50))
		}
	}
	a.Systems = systems(names...)
	l, err := o.str("link")
	if err != nil {
		return alert.Alert{}, err
	}
	if a.Link = link(l); l != "" && a.Link == "" {
		return alert.Alert{}, bad(o.at("link"), "must be an http or https URL of at most %d bytes, without spaces, quotes, < > or |", MaxLink)
	}
	det, err := o.str("details")
	if err != nil {
		return alert.Alert{}, err
	}
	a.Details = para(det, MaxDetails)
	lbls, err := o.strMap("labels")
	if err != nil {
		return alert.Alert{}, err
	}
	a.Labels = labels(lbls)
	return a, nil
}
