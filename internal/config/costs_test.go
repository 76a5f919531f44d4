package config

import (
	"strings"
	"testing"
	"time"

	"github.com/sitrep/sitrep/incident"
)

func load(t *testing.T, body string) (Config, error) {
	t.Helper()
	cfg := Default()
	if err := cfg.readFile("sitrep.yaml", strings.NewReader(body)); err != nil {
		return cfg, err
	}
	return cfg, cfg.validate()
}

func TestCostModel(t *testing.T) {
	cfg, err := load(t, `
cost:
  currency: EUR
  contact: {phone: 30, email: 0}
  hourly_rate: 120
  churn:
    high: {amount: 20000}
    low: {multiplier: 1.2}
  classes: {c1: 100000, c2: 20000, c3: 2000}
`)
	if err != nil {
		t.Fatal(err)
	}
	m, err := cfg.CostModel()
	if err != nil {
		t.Fatal(err)
	}
	def := incident.DefaultCostModel()
	if m.Currency != "EUR" || m.Phone != 30 || m.Email != 0 || m.Chat != def.Chat || m.HourlyRate != 120 ||
		m.Classes != [3]float64{100000, 20000, 2000} {
		t.Errorf("model = %+v", m)
	}
	if m.Churn[incident.ChurnHigh] != (incident.ChurnPrice{Amount: 20000}) || m.Churn[incident.ChurnMedium] != def.Churn[incident.ChurnMedium] {
		t.Errorf("churn = %+v", m.Churn)
	}
	for body, want := range map[string]string{
		"cost:\n  churn:\n    extreme: {multiplier: 3}\n":      "cost.churn",
		"cost:\n  classes: {c1: 10, c2: 100}\n":                "cost.classes",
		"cost:\n  hourly_rate: -5\n":                           "cost.hourly_rate",
		"cost:\n  contact: {fax: 3}\n":                         "fax",
		"reports:\n  ops_review: {schedule: \"61 9 * * *\"}\n": "reports.ops_review.schedule",
		"reports:\n  ops_review: {timezone: Mars/Olympus}\n":   "reports.ops_review.timezone",
		"reports:\n  ops_review: {channel: \"Ops Review\"}\n":  "reports.ops_review.channel",
		"reports:\n  ops_review: {window: yesterday}\n":        "reports.ops_review.window",
	} {
		if _, err := load(t, body); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want one naming %s", body, err, want)
		}
	}
}

func TestOpsReview(t *testing.T) {
	cfg, err := load(t, "")
	if err != nil {
		t.Fatal(err)
	}
	r, err := cfg.OpsReview()
	if err != nil {
		t.Fatal(err)
	}
	// Default: weekdays at 09:00 UTC; after Friday 09:00 comes Monday.
	fri := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	if r.Channel != "ops-review" || r.Window != 24*time.Hour || !r.Schedule.Next(fri).Equal(fri.AddDate(0, 0, 3)) {
		t.Errorf("default review = %+v, next after Friday %v", r, r.Schedule.Next(fri))
	}
	cfg, err = load(t, "reports:\n  ops_review: {channel: \"#daily\", schedule: \"30 8 * * *\", timezone: Europe/Berlin}\n")
	if err != nil {
		t.Fatal(err)
	}
	r, _ = cfg.OpsReview()
	next := r.Schedule.Next(time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC))
	if r.Channel != "daily" || !next.Equal(time.Date(2026, 11, 25, 7, 30, 0, 0, time.UTC)) {
		t.Errorf("review = %+v, next %v (want 07:30 UTC, 08:30 in Berlin)", r, next)
	}
	cfg, _ = load(t, "reports:\n  ops_review: {schedule: \"off\"}\n")
	if r, err := cfg.OpsReview(); err != nil || r.Schedule != nil {
		t.Errorf("off: %+v %v", r, err)
	}
}
