package bot

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/slack-go/slack"
)

func TestParseProblem(t *testing.T) {
	t.Parallel()
	tests := []struct {
		text    string
		want    problemCommand
		wantErr string
	}{
		{"", problemHelp{}, ""},
		{"new Pool too small on db-2", problemNew{Title: "Pool too small on db-2"}, ""},
		{`new "quoted title"`, problemNew{Title: "quoted title"}, ""},
		{"new", nil, "Name the cause"},
		{"list", problemList{}, ""},
		{"show PRB-12", problemShow{ID: 12}, ""},
		{"show prb-3", problemShow{ID: 3}, ""},
		{"show", nil, "Name the problem"},
		{"show INC-3", nil, "`INC-3` is not a problem"},
		{"close PRB-3 sized the pool from a load test", problemClose{ID: 3, Fix: "sized the pool from a load test"}, ""},
		{"close PRB-3", nil, "Say what removed the cause"},
		{"close x fixed", nil, "`x` is not a problem"},
		{"pareto", problemPareto{Window: 30 * 24 * time.Hour}, ""},
		{"pareto 7d", problemPareto{Window: 7 * 24 * time.Hour}, ""},
		{"pareto all", problemPareto{}, ""},
		{"pareto 365d", nil, "Look back between"},
		{"pareto <!here>", nil, "`&lt;!here&gt;` is not a window"},
		{"frob", nil, "`frob` is not a /problem command"},
	}
	for _, tt := range tests {
		got, err := parseProblem(tt.text)
		if tt.wantErr != "" {
			ue, ok := err.(*usageError)
			if !ok || !strings.Contains(ue.Problem, tt.wantErr) || ue.Usage == "" {
				t.Errorf("parseProblem(%q) error = %v, want a usage error with %q", tt.text, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !cmp.Equal(got, tt.want) {
			t.Errorf("parseProblem(%q) = %#v, %v; want %#v", tt.text, got, err, tt.want)
		}
	}
}

func TestParseLinkAndCost(t *testing.T) {
	t.Parallel()
	for text, want := range map[string]incidentCommand{
		"link PRB-2":       linkCommand{Problem: 2},
		"link INC-4 PRB-2": linkCommand{Number: 4, Problem: 2},
		"link":             linkCommand{},
		"unlink PRB-2":     linkCommand{Problem: 2, Unlink: true},
		"cost":             costCommand{},
		"cost INC-9":       costCommand{Number: 9},
	} {
		if got, err := parseIncident(text); err != nil || !cmp.Equal(got, want) {
			t.Errorf("parseIncident(%q) = %#v, %v; want %#v", text, got, err, want)
		}
	}
	for text, problem := range map[string]string{
		"unlink":          "Name the problem to unlink",
		"link PRB-x":      "`PRB-x` is not a problem",
		"cost 12 dollars": "takes no text besides an incident",
	} {
		_, err := parseIncident(text)
		if ue, ok := err.(*usageError); !ok || !strings.Contains(ue.Problem, problem) {
			t.Errorf("parseIncident(%q) error = %v, want %q", text, err, problem)
		}
	}
}

// FuzzParseProblem checks that the parser never panics, that every error is
// a usage error with a form to write, and that what it accepts is valid.
func FuzzParseProblem(f *testing.F) {
	for _, s := range []string{"", "new x", "show PRB-1", "close PRB-2 fix", "pareto 30d", "pareto all", "show PRB-99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		cmd, err := parseProblem(text)
		if err != nil {
			if ue, ok := err.(*usageError); !ok || ue.Problem == "" || ue.Usage == "" {
				t.Fatalf("parseProblem(%q) error %#v is not a usage error with a usage line", text, err)
			}
			return
		}
		switch c := cmd.(type) {
		case problemShow:
			if c.ID <= 0 {
				t.Fatalf("parseProblem(%q) accepted problem %d", text, c.ID)
			}
		case problemClose:
			if c.ID <= 0 || strings.TrimSpace(c.Fix) == "" {
				t.Fatalf("parseProblem(%q) = %#v", text, c)
			}
		case problemNew:
			if c.Title == "" {
				t.Fatalf("parseProblem(%q) accepted an empty title", text)
			}
		case problemPareto:
			if c.Window < 0 {
				t.Fatalf("parseProblem(%q) accepted window %v", text, c.Window)
			}
		}
	})
}

func TestCostInputFromView(t *testing.T) {
	t.Parallel()
	state := func(values map[string]string) *slack.ViewState {
		s := &slack.ViewState{Values: map[string]map[string]slack.BlockAction{}}
		for k, v := range values {
			a := slack.BlockAction{Value: v}
			if k == blockChurn {
				a = slack.BlockAction{SelectedOption: slack.OptionBlockObject{Value: v}}
			}
			s.Values[k] = map[string]slack.BlockAction{k: a}
		}
		return s
	}
	in, problems := costInputFromView(state(map[string]string{blockPhone: "1,200", blockHours: "2.5", blockChurn: "low", blockChat: " "}))
	if len(problems) != 0 || *in.PhoneContacts != 1200 || *in.EngineeringHours != 2.5 || *in.Churn != "low" || in.ChatContacts != nil {
		t.Errorf("good form read as %+v, %v", in, problems)
	}
	_, problems = costInputFromView(state(map[string]string{blockEmail: "3.5", blockRevenue: "-1", blockChurn: "extreme", blockCustomers: "NaN"}))
	for _, b := range []string{blockEmail, blockRevenue, blockChurn, blockCustomers} {
		if problems[b] == "" {
			t.Errorf("bad %s not refused: %v", b, problems)
		}
	}
	if _, problems = costInputFromView(state(nil)); problems[blockPhone] == "" {
		t.Errorf("an empty form was accepted")
	}
	if _, problems = costInputFromView(state(map[string]string{blockRevenue: "NaN"})); problems[blockRevenue] == "" {
		t.Errorf("NaN revenue accepted")
	}
}
