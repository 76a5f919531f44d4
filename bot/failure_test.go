package bot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/sitrep/sitrep/checklist"
	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/storage"
)

// internalText is what must never reach Slack: drivers' and Go's words,
// addresses, SQL.
var internalText = []string{"dial tcp", "sql:", "database is closed", "pq:", "sqlite", "127.0.0.1", "connection refused",
	"channel_id =", "slack server error", "unexpected EOF", "json:", "context deadline", "goroutine"}

// leaks returns the internal text s holds, if any.
func leaks(s string) []string {
	var out []string
	for _, bad := range internalText {
		if strings.Contains(strings.ToLower(s), strings.ToLower(bad)) {
			out = append(out, bad)
		}
	}
	return out
}

func TestUserProblem(t *testing.T) {
	t.Parallel()
	// Real failures of the real things, not look-alikes.
	_, dialErr := net.DialTimeout("tcp", "127.0.0.1:1", time.Second)
	if dialErr == nil {
		t.Fatal("something listens on 127.0.0.1:1")
	}
	store, err := storage.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "closed.db"))
	if err != nil {
		t.Fatal(err)
	}
	store.Close()
	_, closedErr := store.ListIncidents(context.Background(), 10)
	if closedErr == nil {
		t.Fatal("a closed store answered")
	}

	tests := []struct {
		name string
		err  error
		want string
	}{
		{"nil", nil, ""},
		{"field error", &incident.FieldError{Field: "title", Problem: "a title is required: say what customers see"},
			"A title is required: say what customers see."},
		{"field error with a mention", fmt.Errorf("adding: %w", &incident.FieldError{Field: "action", Problem: "only its owner <@U0BOB> marks action 2 done"}),
			"Only its owner <@U0BOB> marks action 2 done."},
		{"no change", fmt.Errorf("INC-3 is restored already: %w", incident.ErrNoChange), "INC-3 is restored already: nothing to change."},
		{"closed", fmt.Errorf("INC-3 was closed on 2026-11-24 03:04 UTC: %w", incident.ErrClosed),
			"INC-3 was closed on 2026-11-24 03:04 UTC: the incident is closed."},
		{"checklist finished", fmt.Errorf("CL-2 was aborted at 03:04 UTC: %w", checklist.ErrFinished),
			"CL-2 was aborted at 03:04 UTC: the checklist is finished."},
		{"user text is escaped", fmt.Errorf("<!channel> & co: %w", incident.ErrNoChange), "&lt;!channel&gt; &amp; co: nothing to change."},
		{"usage", &usageError{Problem: "Say how much longer diagnosis may run, and why."}, "Say how much longer diagnosis may run, and why."},
		{"private channel", fmt.Errorf("%w (%s)", errPrivateChannel, "is_private"), sentence(errPrivateChannel.Error())},
		{"not found names the query", fmt.Errorf("room with channel_id = C1: %w", incident.ErrNotFound), causeNotFound + ". " + adviceTell},
		{"checklist not found", fmt.Errorf("checklist run 7: %w", checklist.ErrNotFound), causeNotFound + ". " + adviceTell},
		{"slack error code", fmt.Errorf("slack chat.postMessage: %w", slack.SlackErrorResponse{Err: "channel_not_found"}),
			"Slack answered `channel_not_found`. " + adviceTell},
		{"slack rate limit", fmt.Errorf("slack chat.update: %w", &slack.RateLimitedError{RetryAfter: time.Minute}), causeLimited + ". " + adviceRetry},
		{"slack 503", fmt.Errorf("slack conversations.create: gave up after 4 attempts: %w", slack.StatusCodeError{Code: 503, Status: "503 Service Unavailable"}),
			"Slack answered HTTP 503. " + adviceRetry},
		{"slack unreachable", fmt.Errorf("slack chat.postMessage: %w", &url.Error{Op: "Post", URL: "https://slack.com/api/chat.postMessage", Err: dialErr}),
			causeSlackOff + ". " + adviceRetry},
		{"database refused (lib/pq dials)", fmt.Errorf("recording the incident: %w", dialErr), causeDatabase + ". " + adviceRetry},
		{"database closed (real store)", fmt.Errorf("listing incidents: %w", closedErr), causeDatabase + ". " + adviceRetry},
		{"database dropped the connection", fmt.Errorf("reading the timeline: %w", io.ErrUnexpectedEOF), causeDatabase + ". " + adviceRetry},
		{"database locked", errors.New("database is locked (5) (SQLITE_BUSY)"), causeDatabase + ". " + adviceRetry},
		{"deadline", fmt.Errorf("recording the incident: %w", context.DeadlineExceeded), causeTimeout + ". " + adviceRetry},
		{"stopping", fmt.Errorf("recording the incident: %w", context.Canceled), causeStopping + ". " + adviceRetry},
		{"SQL error", errors.New(`pq: relation "incidents" does not exist`), causeInternal + ". " + adviceTell},
		{"anything else", errors.New("json: cannot unmarshal string into Go struct field Payload.id of type int64"), causeInternal + ". " + adviceTell},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := userProblem(tc.err)
			if got != tc.want {
				t.Errorf("userProblem(%v)\n got %q\nwant %q", tc.err, got, tc.want)
			}
			if l := leaks(got); len(l) > 0 && tc.err != nil && !incident.IsUserError(tc.err) {
				t.Errorf("userProblem(%v) = %q shows %q", tc.err, got, l)
			}
		})
	}
}

// TestCouldNot checks the sentence a person sees and that the log keeps
// what they do not see.
func TestCouldNot(t *testing.T) {
	t.Parallel()
	var logged bytes.Buffer
	b := &Bot{log: slog.New(slog.NewTextHandler(&logged, nil))}
	_, dialErr := net.DialTimeout("tcp", "127.0.0.1:1", time.Second)
	err := fmt.Errorf("recording the incident: %w", dialErr)

	got := b.couldNot("record the incident", err, "Nothing was opened")
	want := "sitrep could not record the incident: its database is unavailable. Nothing was opened. Try again in a minute."
	if got != want {
		t.Errorf("couldNot = %q, want %q", got, want)
	}
	for _, s := range []string{"127.0.0.1:1", "connection refused", "Nothing was opened"} {
		if !strings.Contains(logged.String(), s) {
			t.Errorf("the log lacks %q: %s", s, logged.String())
		}
	}

	logged.Reset()
	fe := &incident.FieldError{Field: "title", Problem: "a title is required"}
	if got := b.couldNot("record the incident", fe, "Nothing was opened"); got != "A title is required." {
		t.Errorf("couldNot(field error) = %q, want the problem alone", got)
	}
	if logged.Len() != 0 {
		t.Errorf("a person's mistake was logged as a failure: %s", logged.String())
	}
}
