// Package alerts is sitrep's alert intake over HTTP: the webhook endpoint
// POST /api/v1/alerts/{source} that Alertmanager, Grafana, Splunk,
// PagerDuty and any other tool (the generic format) call, each source's
// authentication, and the parsers that turn each product's own payload
// into alert.Alerts. What is accepted goes to a Receiver (alert.Service)
// that stores it before the answer; nothing of a refused request is
// stored. docs/alerts.md describes every source for the people who set
// them up.
//
// The parsers read each product's documented payload (the fixtures under
// testdata/<source>/ say where each shape comes from), take only the
// fields they need, and bound every text (see MaxTitle and its
// neighbours): the bot renders alerts into Block Kit and escapes them on
// the way out; the parsers clean and bound, and never escape.
package alerts

import (
	"context"
	"fmt"

	"github.com/sitrep/sitrep/alert"
)

// Receiver takes parsed alerts: alert.Service satisfies it. Receive stores
// every alert in one transaction, or none and returns an error.
type Receiver interface {
	Receive(ctx context.Context, alerts []alert.Alert) (alert.Result, error)
}

// parsed is what a parser read: the alerts, or why a payload it accepts
// holds none (a PagerDuty event type sitrep does not read).
type parsed struct {
	alerts  []alert.Alert
	ignored string
}

// Parse reads body, as src sends it, into alerts: one per element of an
// Alertmanager or Grafana notification's alerts, one per Splunk alert
// action, one per PagerDuty incident event, one per generic object. A
// payload sitrep cannot read is a *FieldError naming the field. A
// PagerDuty event of a type sitrep does not read parses to no alerts and
// no error. Every alert returned has its Source, GroupKey, Status and
// Title set, and its texts bounded.
func Parse(src alert.Source, body []byte) ([]alert.Alert, error) {
	p, err := parse(src, body)
	return p.alerts, err
}

// parse is Parse, saying why nothing was read when nothing was.
func parse(src alert.Source, body []byte) (parsed, error) {
	if err := checkJSON(body); err != nil {
		return parsed{}, err
	}
	var p parsed
	var err error
	switch src {
	case alert.SourceAlertmanager:
		p.alerts, err = parseAlertmanager(body)
	case alert.SourceGrafana:
		p.alerts, err = parseGrafana(body)
	case alert.SourceSplunk:
		p.alerts, err = parseSplunk(body)
	case alert.SourcePagerDuty:
		p, err = parsePagerDuty(body)
	case alert.SourceGeneric:
		p.alerts, err = parseGeneric(body)
	default:
		return parsed{}, fmt.Errorf("alerts: no parser for source %q", src)
	}
	if err != nil {
		return parsed{}, err
	}
	if len(p.alerts) > MaxAlerts {
		field := "alerts"
		if src == alert.SourceGeneric {
			field = ""
		}
		return parsed{}, bad(field, "holds %d alerts: send at most %d a request (Alertmanager and Grafana: max_alerts of the webhook)", len(p.alerts), MaxAlerts)
	}
	return p, nil
}
