package slacksim

import (
	"math"
	"strconv"
	"sync"
	"time"
)

// apiState holds per-method call counters, token buckets and injected faults.
type apiState struct {
	mu     sync.Mutex
	calls  map[string]int
	total  int
	limits map[string]*bucket
	faults map[string]*fault
	lost   map[string]int
}

type bucket struct {
	perSecond float64
	burst     float64
	tokens    float64
	last      time.Time
}

type fault struct {
	left   int
	status int
}

func (a *apiState) init() {
	a.calls = map[string]int{}
	a.limits = map[string]*bucket{}
	a.faults = map[string]*fault{}
	a.lost = map[string]int{}
}

// takeLost consumes one lost answer for method.
func (a *apiState) takeLost(method string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.lost[method] > 0 {
		a.lost[method]--
		return true
	}
	return false
}

// LoseAnswers makes the next n calls of method take effect in the
// workspace and then fail for the caller with HTTP 504, as a call does
// whose answer is lost (a timeout at Slack's edge): the channel is created,
// the message posted, and the caller cannot tell. n <= 0 clears it.
func (s *Sim) LoseAnswers(method string, n int) {
	s.api.mu.Lock()
	defer s.api.mu.Unlock()
	if n <= 0 {
		delete(s.api.lost, method)
		return
	}
	s.api.lost[method] = n
}

func (a *apiState) count(method string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls[method]++
	a.total++
}

// takeFault consumes one injected fault for method ("*" faults match any
// method), returning the HTTP status to answer.
func (a *apiState) takeFault(method string) (int, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, key := range []string{method, "*"} {
		if f := a.faults[key]; f != nil && f.left > 0 {
			f.left--
			return f.status, true
		}
	}
	return 0, false
}

// limit takes a token from method's bucket. When none is left it returns
// the whole seconds until one is (at least 1) for Retry-After.
func (a *apiState) limit(method string, now time.Time) (string, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	b := a.limits[method]
	if b == nil {
		return "", false
	}
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.tokens = math.Min(b.burst, b.tokens+elapsed*b.perSecond)
	}
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return "", false
	}
	wait := math.Ceil((1 - b.tokens) / b.perSecond)
	return strconv.Itoa(max(1, int(wait))), true
}

// SetRateLimit limits method to perMinute calls per minute with bursts of up
// to burst calls (a token bucket that starts full). Calls over the limit get
// HTTP 429 with a Retry-After header (whole seconds) and
// {"ok":false,"error":"ratelimited"}. perMinute <= 0 removes the limit.
func (s *Sim) SetRateLimit(method string, perMinute int, burst int) {
	s.api.mu.Lock()
	defer s.api.mu.Unlock()
	if perMinute <= 0 {
		delete(s.api.limits, method)
		return
	}
	burst = max(burst, 1)
	s.api.limits[method] = &bucket{perSecond: float64(perMinute) / 60, burst: float64(burst),
		tokens: float64(burst), last: s.opts.Now()}
}

// FailNext makes the next n calls of method answer with HTTP status
// instead of being served: 429 comes with "Retry-After: 1" and
// {"ok":false,"error":"ratelimited"}, any other status with an HTML body,
// as Slack's edge does. method "*" matches every method. n <= 0 clears it.
// Failed calls still count in Calls.
func (s *Sim) FailNext(method string, n int, status int) {
	s.api.mu.Lock()
	defer s.api.mu.Unlock()
	if n <= 0 {
		delete(s.api.faults, method)
		return
	}
	s.api.faults[method] = &fault{left: n, status: status}
}

// Calls returns how many HTTP calls method received since the last
// ResetCalls, refused and failed ones included.
func (s *Sim) Calls(method string) int {
	s.api.mu.Lock()
	defer s.api.mu.Unlock()
	return s.api.calls[method]
}

// TotalCalls returns how many Web API calls were received since the last
// ResetCalls.
func (s *Sim) TotalCalls() int {
	s.api.mu.Lock()
	defer s.api.mu.Unlock()
	return s.api.total
}

// ResetCalls sets every call counter to zero.
func (s *Sim) ResetCalls() {
	s.api.mu.Lock()
	defer s.api.mu.Unlock()
	s.api.calls = map[string]int{}
	s.api.total = 0
}
