package alerts

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/sitrep/sitrep/alert"
)

// maxSplunkFields is the fields of a Splunk result written into details.
const maxSplunkFields = 30

// parseSplunk reads the body of Splunk's webhook alert action:
// {"result": {...the first result row...}, "sid", "results_link",
// "search_name", "owner", "app"}. It is one firing Alert grouped by the
// saved search's name (Splunk never says an alert resolved), its
// fingerprint the run's sid. search_name
// is null for a search that was not saved: such a body is refused, since
// sitrep could not group its repeats. The result's fields (strings, or
// arrays of strings for multivalue fields) become the details, and its
// severity, system and service fields, when present, the alert's.
func parseSplunk(body []byte) ([]alert.Alert, error) {
	root, err := readObject("", body)
	if err != nil {
		return nil, err
	}
	name, err := root.str("search_name")
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(name) == "" {
		return nil, bad("search_name", "is missing: sitrep groups Splunk alerts by their saved search; send from the webhook alert action of a saved search (an alert)")
	}
	sid, err := root.str("sid")
	if err != nil {
		return nil, err
	}
	resultsLink, err := root.str("results_link")
	if err != nil {
		return nil, err
	}
	app, err := root.str("app")
	if err != nil {
		return nil, err
	}
	owner, err := root.str("owner")
	if err != nil {
		return nil, err
	}
	a := alert.Alert{
		Source:   alert.SourceSplunk,
		GroupKey: key(name),
		// Each run of the search is one alert of the group: a run
		// delivered again is a repeat, the next run a new firing (which a
		// change route logs as a change of its own).
		Fingerprint: key(sid),
		Status:      alert.StatusFiring,
		Title:       line(name, MaxTitle),
		SearchName:  line(name, MaxTitle),
		Link:        link(resultsLink),
	}
	if a.Title == "" {
		a.Title = "Splunk alert"
	}
	lbls := map[string]string{}
	if app != "" {
		lbls["app"] = app
	}
	if owner != "" {
		lbls["owner"] = owner
	}
	a.Labels = labels(lbls)
	var d details
	result, ok, err := root.obj("result")
	if err != nil {
		return nil, err
	}
	if ok {
		fields := make([]string, 0, len(result.fields))
		for k := range result.fields {
			fields = append(fields, k)
		}
		slices.Sort(fields)
		values := map[string]string{}
		written := 0
		for _, k := range fields {
			v, err := splunkValue(result, k)
			if err != nil {
				return nil, err
			}
			values[k] = v
			// Splunk's internal fields (_raw, _time, _cd...) say little
			// to people but _raw, the event itself.
			if v == "" || strings.HasPrefix(k, "_") && k != "_raw" {
				continue
			}
			if written < maxSplunkFields {
				d.field(k, v)
				written++
			}
		}
		if len(fields) > 0 && written == maxSplunkFields {
			d.add("…")
		}
		a.Severity = line(values["severity"], MaxSeverity)
		a.Systems = systems(values["system"], values["service"])
	}
	d.field("sid", sid)
	a.Details = d.String()
	return []alert.Alert{a}, nil
}

// splunkValue reads one field of a result row: a string, a number, or a
// multivalue field (an array of them), joined with ", ".
func splunkValue(o object, k string) (string, error) {
	raw := o.get(k)
	if jsonKind(raw) != "array" {
		v, err := o.scalar(k)
		if err != nil {
			return "", bad(o.at(quoteKey(k)), "must be a string, a number or an array of them, not %s", withArticle(jsonKind(raw)))
		}
		return v, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return "", syntaxProblem(o.at(quoteKey(k)), err)
	}
	parts := make([]string, 0, len(items))
	for i, it := range items {
		wrap := object{path: o.at(quoteKey(k)), fields: map[string]json.RawMessage{"": it}}
		v, err := wrap.scalar("")
		if err != nil {
			return "", bad(item(o.at(quoteKey(k)), i), "must be a string or a number, not %s", withArticle(jsonKind(it)))
		}
		parts = append(parts, v)
	}
	return strings.Join(parts, ", "), nil
}
