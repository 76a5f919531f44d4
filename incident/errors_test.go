package incident

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
)

func TestIsUserError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"field error", &FieldError{"title", "a title is required"}, true},
		{"wrapped field error", fmt.Errorf("opening: %w", &FieldError{"title", "x"}), true},
		{"no change, wrapped with words for users", fmt.Errorf("INC-3 is restored already: %w", ErrNoChange), true},
		{"closed", fmt.Errorf("INC-3 was closed on 2026-11-24: %w", ErrClosed), true},
		{"no postmortem", ErrNoPostmortem, true},
		{"phase", &PhaseError{Phase: PhaseTimeline, Want: PhaseIssues}, true},
		{"action", &ActionError{Problems: map[string]string{"owner": "choose a person"}}, true},
		{"batch", &BatchError{Index: 2, Err: &FieldError{"summary", "say what was done"}}, true},
		{"not found names the query", fmt.Errorf("room with channel_id = C1: %w", ErrNotFound), false},
		{"duplicate", ErrDuplicate, false},
		{"store failure", fmt.Errorf("recording the incident: %w", io.ErrUnexpectedEOF), false},
		{"deadline", context.DeadlineExceeded, false},
		{"plain error with the same text", errors.New("nothing to change"), false},
		{"nil", nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := IsUserError(tc.err); got != tc.want {
				t.Errorf("IsUserError(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
	if !errors.Is(fmt.Errorf("x: %w", ErrNoChange), ErrNoChange) || errors.Is(ErrNoChange, ErrClosed) {
		t.Error("user error sentinels must compare as sentinels")
	}
}
