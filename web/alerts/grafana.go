package alerts

import (
	"github.com/sitrep/sitrep/alert"
)

// parseGrafana reads Grafana's unified alerting webhook (a contact point of
// the Webhook integration, Grafana 8 and later): Alertmanager's envelope
// (receiver, status, alerts[], groupLabels, commonLabels,
// commonAnnotations, externalURL, groupKey, truncatedAlerts) with orgId,
// state, title, message and version "1", and alerts[] that add
// fingerprint, silenceURL, dashboardURL, panelURL, values and valueString.
// Each element of alerts is one Alert, grouped by its own fingerprint: a
// Grafana notification groups by policy, which says little about which
// alert is which. The old (legacy alerting) payload, with no alerts
// array, is refused naming it.
func parseGrafana(body []byte) ([]alert.Alert, error) {
	root, err := readObject("", body)
	if err != nil {
		return nil, err
	}
	if !root.has("alerts") {
		if root.has("ruleName") || root.has("evalMatches") {
			return nil, bad("alerts", "is missing: this is Grafana's legacy alerting payload; sitrep reads the unified alerting webhook (Grafana 8 and later)")
		}
		return nil, bad("alerts", "is missing: send Grafana's unified alerting webhook, whose alerts array holds the alerts")
	}
	items, err := root.list("alerts")
	if err != nil {
		return nil, err
	}
	out := make([]alert.Alert, 0, len(items))
	for i, raw := range items {
		a, err := readPromAlert(alert.SourceGrafana, item("alerts", i), raw)
		if err != nil {
			return nil, err
		}
		// The group is the alert itself.
		a.GroupKey, a.Fingerprint = a.Fingerprint, ""
		out = append(out, a)
	}
	return out, nil
}
