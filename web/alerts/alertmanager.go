package alerts

import (
	"slices"

	"github.com/sitrep/sitrep/alert"
)

// parseAlertmanager reads Prometheus Alertmanager's webhook notification,
// version "4" (webhook_config; the body is Alertmanager's
// notify/webhook.Message): receiver, status, alerts[] (status, labels,
// annotations, startsAt, endsAt, generatorURL, fingerprint), groupLabels,
// commonLabels, commonAnnotations, externalURL, version, groupKey,
// truncatedAlerts. Each element of alerts is one Alert in the group of
// groupKey, told apart by its fingerprint.
func parseAlertmanager(body []byte) ([]alert.Alert, error) {
	root, err := readObject("", body)
	if err != nil {
		return nil, err
	}
	version, err := root.str("version")
	if err != nil {
		return nil, err
	}
	if version != "4" {
		if !root.has("version") {
			return nil, bad("version", `is missing: sitrep reads Alertmanager's webhook version "4" (Alertmanager 0.19 and later)`)
		}
		return nil, bad("version", `must be "4" (Alertmanager's webhook version), not %q`, cut(version, 20))
	}
	groupKey, err := root.required("groupKey", "Alertmanager sends the key of the notification's group")
	if err != nil {
		return nil, err
	}
	items, err := root.list("alerts")
	if err != nil {
		return nil, err
	}
	if !root.has("alerts") {
		return nil, bad("alerts", "is missing: send the notification's alerts")
	}
	out := make([]alert.Alert, 0, len(items))
	for i, raw := range items {
		a, err := readPromAlert(alert.SourceAlertmanager, item("alerts", i), raw)
		if err != nil {
			return nil, err
		}
		a.GroupKey = key(groupKey)
		out = append(out, a)
	}
	return out, nil
}

// readPromAlert reads one element of the alerts of an Alertmanager or
// Grafana notification: the fields both share. GroupKey is left to the
// caller; Fingerprint is the alert's, or the digest of its labels when the
// sender gave none.
func readPromAlert(src alert.Source, path string, raw []byte) (alert.Alert, error) {
	o, err := readObject(path, raw)
	if err != nil {
		return alert.Alert{}, err
	}
	st, err := o.str("status")
	if err != nil {
		return alert.Alert{}, err
	}
	a := alert.Alert{Source: src}
	switch st {
	case "firing":
		a.Status = alert.StatusFiring
	case "resolved":
		a.Status = alert.StatusResolved
	case "":
		return alert.Alert{}, bad(o.at("status"), `is missing: send "firing" or "resolved"`)
	default:
		return alert.Alert{}, bad(o.at("status"), `must be "firing" or "resolved", not %q`, cut(st, 20))
	}
	lbls, err := o.strMap("labels")
	if err != nil {
		return alert.Alert{}, err
	}
	ann, err := o.strMap("annotations")
	if err != nil {
		return alert.Alert{}, err
	}
	if a.StartsAt, err = o.time("startsAt"); err != nil {
		return alert.Alert{}, err
	}
	endsAt, err := o.time("endsAt")
	if err != nil {
		return alert.Alert{}, err
	}
	if a.Status == alert.StatusResolved {
		// A firing alert's endsAt is only when it would lapse unless
		// renewed; it ended only once resolved.
		a.EndsAt = endsAt
	}
	gen, err := o.str("generatorURL")
	if err != nil {
		return alert.Alert{}, err
	}
	fp, err := o.str("fingerprint")
	if err != nil {
		return alert.Alert{}, err
	}
	if fp == "" {
		fp = fingerprintOf(lbls)
	}
	a.Fingerprint = key(fp)
	a.Title = titleOf(lbls["alertname"], ann["summary"])
	if a.Title == "" {
		a.Title = line(src.Name()+" alert "+a.Fingerprint, MaxTitle)
	}
	a.Severity = line(lbls["severity"], MaxSeverity)
	a.Labels = labels(lbls)
	a.Systems = systems(lbls["system"], lbls["service"])
	a.Link = link(gen)
	var d details
	d.add(ann["description"])
	for _, k := range sortedKeys(ann) {
		if k != "description" && k != "summary" {
			d.field(k, ann[k])
		}
	}
	if src == alert.SourceGrafana {
		for _, f := range []string{"valueString", "dashboardURL", "panelURL", "silenceURL"} {
			s, err := o.str(f)
			if err != nil {
				return alert.Alert{}, err
			}
			d.field(f, s)
		}
	}
	a.Details = d.String()
	return a, nil
}

// sortedKeys returns m's keys in order.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
