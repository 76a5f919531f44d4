package main

import (
	"net"
	"net/http"
	"time"
)

// slackTimeouts bound the stages of one Slack Web API call.
type slackTimeouts struct {
	// Dial bounds opening the TCP connection.
	Dial time.Duration
	// TLSHandshake bounds the TLS handshake.
	TLSHandshake time.Duration
	// ResponseHeader bounds the wait for the answer's headers once the
	// request is sent.
	ResponseHeader time.Duration
	// Call bounds the whole call, body included.
	Call time.Duration
}

// defaultSlackTimeouts are generous for Slack, which answers in well under
// a second, and well inside a job's 45 s deadline.
var defaultSlackTimeouts = slackTimeouts{
	Dial:           5 * time.Second,
	TLSHandshake:   5 * time.Second,
	ResponseHeader: 20 * time.Second,
	Call:           30 * time.Second,
}

// slackIdleConns is how many idle connections to Slack are kept open: above
// the 32 envelope workers and the job workers, so that a burst reuses its
// connections instead of opening (and, on real Slack, TLS-handshaking) new
// ones. Go's default keeps 2.
const slackIdleConns = 64

// newSlackHTTPClient returns the HTTP client for sitrep's Slack Web API
// calls: every stage of a call is bounded, so a Slack that never answers
// cannot hold a worker, and idle connections are kept for reuse.
func newSlackHTTPClient(t slackTimeouts) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{Timeout: t.Dial, KeepAlive: 30 * time.Second}).DialContext
	tr.TLSHandshakeTimeout = t.TLSHandshake
	tr.ResponseHeaderTimeout = t.ResponseHeader
	tr.MaxIdleConns = slackIdleConns
	tr.MaxIdleConnsPerHost = slackIdleConns
	tr.IdleConnTimeout = 90 * time.Second
	return &http.Client{Transport: tr, Timeout: t.Call}
}
