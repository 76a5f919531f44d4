package dashboard

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/sitrep/sitrep/incident"
	"github.com/sitrep/sitrep/internal/dashquery"
)

// Live updates of an open incident's page, with Server-Sent Events. The
// stream polls the store (not Slack, not this process's memory), so an
// update made through any replica reaches every page; static/live.js
// re-fetches the page's changing parts when told.

// Defaults of the event streams.
const (
	// defaultPollEvery is how often a stream reads the incident's version.
	defaultPollEvery = 2 * time.Second
	// defaultMaxStreams bounds the streams open at once; more are told
	// to retry later (503), and the page still works without them.
	defaultMaxStreams = 200
	// keepAliveEvery sends a comment now and then so proxies keep the
	// connection and a client that left is noticed.
	keepAliveEvery = 20 * time.Second
)

// liveStreams is the dashboard's bound on event streams.
type liveStreams struct {
	pollEvery time.Duration
	slots     chan struct{}
}

func newLiveStreams(poll time.Duration, max int) *liveStreams {
	return &liveStreams{pollEvery: poll, slots: make(chan struct{}, max)}
}

// incidentEvents streams "update" when the incident changes and "closed"
// (then ends) when it closes. A closed incident answers 204, which tells
// an EventSource to stop reconnecting.
func (db *Dashboard) incidentEvents(w http.ResponseWriter, r *http.Request) {
	inc, ok := db.incidentForPage(w, r)
	if !ok {
		return
	}
	if inc.Closed() {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	live := db.live
	select {
	case live.slots <- struct{}{}:
		defer func() { <-live.slots }()
	default:
		w.Header().Set("Retry-After", "30")
		http.Error(w, "too many live pages are open; this page still works, reload it to update", http.StatusServiceUnavailable)
		return
	}
	ctx := r.Context()
	last, err := db.d.Incidents.IncidentVersion(ctx, inc.ID)
	if err != nil {
		db.fail(w, r, "reading an incident's version", err)
		return
	}
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	send := func(format string, args ...any) bool {
		// The server's write timeout is for pages; a stream lives on
		// while it is read.
		_ = rc.SetWriteDeadline(time.Now().Add(keepAliveEvery + 10*time.Second))
		if _, err := fmt.Fprintf(w, format, args...); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !send("retry: %d\n: following %s\n\n", (5 * time.Second).Milliseconds(), inc.Ref()) {
		return
	}
	poll := time.NewTicker(live.pollEvery)
	defer poll.Stop()
	quiet := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-poll.C:
		}
		v, err := db.d.Incidents.IncidentVersion(ctx, inc.ID)
		if err != nil {
			if !errors.Is(err, ctx.Err()) {
				db.d.Log.Warn("following an incident", "incident", inc.Ref(), "err", err)
			}
			if errors.Is(err, incident.ErrNotFound) || ctx.Err() != nil {
				return
			}
			continue
		}
		if v == last {
			if time.Since(quiet) >= keepAliveEvery {
				if !send(": still here\n\n") {
					return
				}
				quiet = time.Now()
			}
			continue
		}
		last, quiet = v, time.Now()
		if !send("event: update\nid: %d\ndata: %s\n\n", v.LastEntry, eventData(v)) {
			return
		}
		if v.Closed {
			send("event: closed\ndata: %s\n\n", eventData(v))
			return
		}
	}
}

// eventData is an update's payload: enough for a script to say what
// changed without a fetch.
func eventData(v dashquery.IncidentVersion) string {
	return fmt.Sprintf(`{"status":%q,"severity":%q,"entry":%d,"closed":%t}`, v.Status, v.Severity.String(), v.LastEntry, v.Closed)
}
