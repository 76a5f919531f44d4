package config

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/sitrep/sitrep/incident"
)

// CostConfig is the cost model in the file. Unset prices keep their
// defaults (incident.DefaultCostModel).
type CostConfig struct {
	Currency string `yaml:"currency"`
	// Contact prices one customer contact of each kind.
	Contact struct {
		Phone *float64 `yaml:"phone"`
		Chat  *float64 `yaml:"chat"`
		Email *float64 `yaml:"email"`
	} `yaml:"contact"`
	// PerCustomer prices each customer affected; default 0.
	PerCustomer *float64 `yaml:"per_customer"`
	// HourlyRate prices an engineering hour.
	HourlyRate *float64 `yaml:"hourly_rate"`
	// Churn prices each churn risk (none, low, medium, high) as a
	// multiplier of the cost, an amount added, or both.
	Churn map[string]ChurnConfig `yaml:"churn"`
	// Classes are the lowest costs of C1, C2 and C3.
	Classes struct {
		C1 *float64 `yaml:"c1"`
		C2 *float64 `yaml:"c2"`
		C3 *float64 `yaml:"c3"`
	} `yaml:"classes"`
}

// ChurnConfig prices one churn risk.
type ChurnConfig struct {
	Multiplier float64 `yaml:"multiplier"`
	Amount     float64 `yaml:"amount"`
}

// CostModel returns the configured cost model over the defaults.
func (c *Config) CostModel() (incident.CostModel, error) {
	m := incident.DefaultCostModel()
	cc := c.Costs
	if cur := strings.TrimSpace(cc.Currency); cur != "" {
		m.Currency = cur
	}
	for _, f := range []struct {
		dst *float64
		src *float64
	}{{&m.Phone, cc.Contact.Phone}, {&m.Chat, cc.Contact.Chat}, {&m.Email, cc.Contact.Email},
		{&m.PerCustomer, cc.PerCustomer}, {&m.HourlyRate, cc.HourlyRate},
		{&m.Classes[0], cc.Classes.C1}, {&m.Classes[1], cc.Classes.C2}, {&m.Classes[2], cc.Classes.C3}} {
		if f.src != nil {
			*f.dst = *f.src
		}
	}
	for name, p := range cc.Churn {
		risk, err := incident.ParseChurnRisk(name)
		if err != nil {
			return m, fmt.Errorf("%s: cost.churn: %w", c.where(), err)
		}
		m.Churn[risk] = incident.ChurnPrice{Multiplier: p.Multiplier, Amount: p.Amount}
	}
	if err := m.Validate(); err != nil {
		return m, fmt.Errorf("%s: %w", c.where(), err)
	}
	return m, nil
}

// Reports sets the scheduled reports.
type Reports struct {
	// OpsReview is the daily operations review.
	OpsReview OpsReviewConfig `yaml:"ops_review"`
}

// OpsReviewConfig sets when and where the daily operations review is
// posted.
type OpsReviewConfig struct {
	// Channel is where it is posted; default "ops-review".
	Channel string `yaml:"channel"`
	// Schedule is a cron spec in TimeZone; default "0 9 * * 1-5"
	// (weekdays at 09:00). "off" posts none.
	Schedule string `yaml:"schedule"`
	// TimeZone is an IANA zone; default UTC.
	TimeZone string `yaml:"timezone"`
	// Window is how far back it looks; default 24h.
	Window string `yaml:"window"`
}

// OpsReview is the parsed daily operations review setting.
type OpsReview struct {
	Channel string
	// Schedule is nil when the review is off.
	Schedule cron.Schedule
	Spec     string
	Location *time.Location
	Window   time.Duration
}

// OpsReview parses the operations review setting.
func (c *Config) OpsReview() (OpsReview, error) {
	rc := c.Reports.OpsReview
	out := OpsReview{Channel: strings.TrimPrefix(strings.TrimSpace(rc.Channel), "#"), Location: time.UTC, Window: 24 * time.Hour,
		Spec: strings.TrimSpace(rc.Schedule)}
	if out.Channel == "" {
		out.Channel = "ops-review"
	}
	if !channelName.MatchString(out.Channel) {
		return out, fmt.Errorf("%s: reports.ops_review.channel %q is not a Slack channel name (lowercase letters, digits, - and _, at most 80)", c.where(), out.Channel)
	}
	if tz := strings.TrimSpace(rc.TimeZone); tz != "" {
		loc, err := time.LoadLocation(tz)
		if err != nil {
			return out, fmt.Errorf("%s: reports.ops_review.timezone: %q is not an IANA time zone such as Europe/London", c.where(), tz)
		}
		out.Location = loc
	}
	if w := strings.TrimSpace(rc.Window); w != "" {
		d, err := time.ParseDuration(w)
		if err != nil || d <= 0 {
			return out, fmt.Errorf("%s: reports.ops_review.window %q is not a duration such as 24h", c.where(), w)
		}
		out.Window = d
	}
	if out.Spec == "" {
		out.Spec = "0 9 * * 1-5"
	}
	if strings.EqualFold(out.Spec, "off") {
		return out, nil
	}
	s, err := parseSpec(out.Spec, out.Location)
	if err != nil {
		return out, fmt.Errorf("%s: reports.ops_review.schedule: %w", c.where(), err)
	}
	out.Schedule = s
	return out, nil
}
