package main

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestSlackHTTPClientTimesOut: a Slack that accepts a call and never
// answers, or answers the headers and never the body, cannot hold the call
// past its bound.
func TestSlackHTTPClientTimesOut(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		timeouts slackTimeouts
		// headers says whether the server sends its headers before hanging.
		headers bool
	}{
		{"no answer", slackTimeouts{Dial: time.Second, TLSHandshake: time.Second, ResponseHeader: 100 * time.Millisecond, Call: time.Hour}, false},
		{"headers but no body", slackTimeouts{Dial: time.Second, TLSHandshake: time.Second, ResponseHeader: time.Hour, Call: 200 * time.Millisecond}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			end := make(chan struct{})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.headers {
					w.WriteHeader(http.StatusOK)
					_, _ = w.Write([]byte(`{"ok":`))
					w.(http.Flusher).Flush()
				}
				<-end
			}))
			defer srv.Close()
			defer close(end)
			done := make(chan error, 1)
			go func() {
				resp, err := newSlackHTTPClient(tc.timeouts).Post(srv.URL+"/chat.postMessage", "application/x-www-form-urlencoded", nil)
				if err == nil {
					_, err = io.ReadAll(resp.Body)
					resp.Body.Close()
				}
				done <- err
			}()
			select {
			case err := <-done:
				var ne net.Error
				if !errors.As(err, &ne) || !ne.Timeout() {
					t.Errorf("call ended with %v, want a timeout", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("a call Slack never answers did not end")
			}
		})
	}
}

// TestSlackHTTPClientReusesConnections: a second burst of 32 concurrent
// calls (as many as the bot's workers) goes over the connections the first
// opened; Go's default client keeps 2 and would open 30 more.
func TestSlackHTTPClientReusesConnections(t *testing.T) {
	t.Parallel()
	const burst = 32
	var opened atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(20 * time.Millisecond) // the burst's calls overlap
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			opened.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	client := newSlackHTTPClient(defaultSlackTimeouts)
	round := func() {
		var wg sync.WaitGroup
		for range burst {
			wg.Go(func() {
				resp, err := client.Post(srv.URL+"/chat.postMessage", "application/x-www-form-urlencoded", nil)
				if err != nil {
					t.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			})
		}
		wg.Wait()
	}
	round()
	first := opened.Load()
	round()
	if again := opened.Load() - first; again != 0 {
		t.Errorf("the second burst of %d calls opened %d new connections (the first opened %d), want none", burst, again, first)
	}
}
