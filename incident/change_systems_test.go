package incident

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestChangeValidateSystems: repeats are dropped (in any case), order
// kept; an eleventh distinct system is refused however long the list.
func TestChangeValidateSystems(t *testing.T) {
	t.Parallel()
	many := func(n, distinct int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("s%d", i%distinct)
		}
		return out
	}
	tests := []struct {
		name    string
		systems []string
		want    []string // nil: refused
	}{
		{"repeats in other case", []string{"web", "DB", "Web", "db"}, []string{"web", "db"}},
		{"ten", many(10, 10), many(10, 10)},
		{"ten, repeated 10,000 times", many(100000, 10), many(10, 10)},
		{"eleven", many(11, 11), nil},
		{"100,000", many(100000, 100000), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Change{Systems: tc.systems, Person: "ci", Summary: "x", Source: SourceAPI}
			err := c.Validate(time.Now())
			var fe *FieldError
			switch {
			case tc.want == nil && (!errors.As(err, &fe) || fe.Field != "systems" || !strings.Contains(err.Error(), "at most 10")):
				t.Errorf("Validate = %v, want systems refused, at most 10", err)
			case tc.want != nil && (err != nil || !slices.Equal(c.Systems, tc.want)):
				t.Errorf("Validate = %v, systems %v, want %v", err, c.Systems, tc.want)
			}
		})
	}
}

// BenchmarkValidateManySystems validates a change naming 100,000 distinct
// systems: refused at the eleventh.
func BenchmarkValidateManySystems(b *testing.B) {
	systems := make([]string, 100000)
	for i := range systems {
		systems[i] = fmt.Sprintf("s%05d", i)
	}
	for b.Loop() {
		c := Change{Systems: systems, Person: "ci", Summary: "x", Source: SourceAPI}
		if err := c.Validate(time.Now()); err == nil {
			b.Fatal("100,000 systems accepted")
		}
	}
}
