package slacksim

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// MethodResponseURL is the method name under which posts to a response_url
// appear in the call log and are matched by HoldAnswer and Delay.
const MethodResponseURL = "response_url"

// maxFaultBody bounds how much of a request body the call log reads.
const maxFaultBody = 16 << 20

// Call is one HTTP call the simulator received: a Web API method, or a
// post to a response_url (Method MethodResponseURL).
type Call struct {
	// Seq numbers the calls from 1, in the order they arrived, since the
	// last ResetCallLog.
	Seq int
	// Method is the Web API method, or MethodResponseURL.
	Method string
	// Channel is the call's channel parameter, when it named one.
	Channel string
	// At is when the call arrived.
	At time.Time
	// Status is the HTTP status of the answer the caller got; 0 while the
	// call is being served, and when its answer was never delivered (the
	// caller's connection died while it was held or delayed).
	Status int
	// OK is the Web API answer's "ok" field; for a response_url, whether
	// it answered 200.
	OK bool
	// Held is true for a call whose answer a Hold held back.
	Held bool
	// Dropped is true when the answer was never delivered because the
	// caller had gone.
	Dropped bool
}

// Hold holds back the answer to one call: the call takes effect in the
// workspace, then its HTTP answer waits until Release. A hold never
// released is a call that never returns. If the caller goes away first
// (its process was killed, its connection closed), the answer is dropped.
type Hold struct {
	s       *Sim
	method  string
	left    int // matching calls still to pass before the held one
	reached chan struct{}
	release chan struct{}
	done    chan struct{}

	once    sync.Once
	mu      sync.Mutex
	call    Call
	dropped bool
}

// Reached is closed once the held call has taken effect and its answer is
// being held.
func (h *Hold) Reached() <-chan struct{} { return h.reached }

// Done is closed once the held answer was delivered or dropped.
func (h *Hold) Done() <-chan struct{} { return h.done }

// Release lets the held answer go. Before the call arrives it disarms the
// hold instead: no call is held. It is safe to call more than once.
func (h *Hold) Release() {
	h.once.Do(func() { close(h.release) })
	h.s.faults.mu.Lock()
	defer h.s.faults.mu.Unlock()
	for i, x := range h.s.faults.holds {
		if x == h {
			h.s.faults.holds = append(h.s.faults.holds[:i:i], h.s.faults.holds[i+1:]...)
			break
		}
	}
}

// Call returns the held call as it arrived (Seq, Method, Channel, At);
// the zero Call before Reached.
func (h *Hold) Call() Call {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.call
}

// Dropped reports whether the held answer was dropped because the caller
// had gone before Release.
func (h *Hold) Dropped() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.dropped
}

// faultState holds the armed holds, the delays and the call log.
type faultState struct {
	mu     sync.Mutex
	holds  []*Hold
	delays map[string]time.Duration
	log    []Call
	seq    int
}

// matches reports whether a hold or delay for method applies to a call of
// called: "" matches every call except apps.connections.open, which is
// Socket Mode's plumbing rather than an effect.
func matches(method, called string) bool {
	if method == "" {
		return called != "apps.connections.open"
	}
	return method == called
}

// HoldAnswer arms a Hold on the n-th call from now (n >= 1; n < 1 counts
// as 1) of method, or of any method when method is "" (every Web API
// method but apps.connections.open, and posts to a response_url). Calls
// are counted in the order they arrive. The held call is served as usual
// — the channel is created, the message posted — and then its answer
// waits for Release. Several holds may be armed at once.
func (s *Sim) HoldAnswer(n int, method string) *Hold {
	h := &Hold{s: s, method: method, left: max(n, 1) - 1,
		reached: make(chan struct{}), release: make(chan struct{}), done: make(chan struct{})}
	s.faults.mu.Lock()
	s.faults.holds = append(s.faults.holds, h)
	s.faults.mu.Unlock()
	return h
}

// Delay makes every call of method (every call but apps.connections.open
// when method is "") answer d after it took effect, as a slow Slack does.
// d <= 0 turns the delay for method off. A delay set for a method wins over
// the one set for "".
func (s *Sim) Delay(method string, d time.Duration) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	if s.faults.delays == nil {
		s.faults.delays = map[string]time.Duration{}
	}
	if d <= 0 {
		delete(s.faults.delays, method)
		return
	}
	s.faults.delays[method] = d
}

// CallLog returns every call received since the last ResetCallLog, in the
// order they arrived.
func (s *Sim) CallLog() []Call {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	return append([]Call(nil), s.faults.log...)
}

// ResetCallLog empties the call log; Seq starts again from 1. It does not
// touch the counters of Calls and TotalCalls.
func (s *Sim) ResetCallLog() {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.log = nil
	s.faults.seq = 0
}

// arrive logs a call and returns its index in the log, its Seq and the
// hold that takes it, if any.
func (f *faultState) arrive(c Call) (int, int, *Hold) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	c.Seq = f.seq
	var taken *Hold
	for i := 0; i < len(f.holds); i++ {
		h := f.holds[i]
		if !matches(h.method, c.Method) {
			continue
		}
		if h.left > 0 {
			h.left--
			continue
		}
		if taken == nil {
			taken = h
			c.Held = true
			f.holds = append(f.holds[:i:i], f.holds[i+1:]...)
			i--
		}
	}
	f.log = append(f.log, c)
	return len(f.log) - 1, c.Seq, taken
}

// delayFor returns the delay of a call of method.
func (f *faultState) delayFor(method string) time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	if d, ok := f.delays[method]; ok {
		return d
	}
	if matches("", method) {
		return f.delays[""]
	}
	return 0
}

// answered records how the call at index i (of the log of generation seq)
// was answered.
func (f *faultState) answered(i, seq, status int, ok, dropped bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if i >= len(f.log) || f.log[i].Seq != seq {
		return // the log was reset meanwhile
	}
	f.log[i].Status, f.log[i].OK, f.log[i].Dropped = status, ok, dropped
}

// bufferedAnswer collects a handler's answer so that it can be held,
// delayed or dropped after the call took effect.
type bufferedAnswer struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedAnswer) Header() http.Header { return b.header }

func (b *bufferedAnswer) WriteHeader(status int) {
	if b.status == 0 {
		b.status = status
	}
}

func (b *bufferedAnswer) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

// withFaults wraps the handler of a Web API method or a response_url: it
// logs the call, serves it, then applies a hold or delay before the
// answer goes out. method names the call; for the Web API it is read from
// the path.
func (s *Sim) withFaults(method string, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, hr *http.Request) {
		name := method
		if name == "" {
			name = hr.PathValue("method")
		}
		body, _ := io.ReadAll(io.LimitReader(hr.Body, maxFaultBody))
		hr.Body = io.NopCloser(bytes.NewReader(body))
		i, seq, hold := s.faults.arrive(Call{Method: name, Channel: channelParam(hr, body), At: time.Now()})

		ans := &bufferedAnswer{header: http.Header{}}
		next(ans, hr)
		if ans.status == 0 {
			ans.status = http.StatusOK
		}
		ok := answerOK(name, ans)

		gone := false
		if hold != nil {
			hold.mu.Lock()
			hold.call = s.faults.callAt(i, seq)
			hold.mu.Unlock()
			close(hold.reached)
			s.log.Debug("slacksim: holding an answer", "method", name)
			select {
			case <-hold.release:
			case <-hr.Context().Done():
				gone = true
			case <-s.closed:
				gone = true
			}
			hold.mu.Lock()
			hold.dropped = gone
			hold.mu.Unlock()
			defer close(hold.done)
		}
		if d := s.faults.delayFor(name); d > 0 && !gone {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-hr.Context().Done():
				gone = true
			case <-s.closed:
				gone = true
			}
			t.Stop()
		}
		if gone {
			s.log.Debug("slacksim: answer dropped: the caller has gone", "method", name)
			s.faults.answered(i, seq, 0, ok, true)
			return
		}
		for k, v := range ans.header {
			w.Header()[k] = v
		}
		w.WriteHeader(ans.status)
		_, _ = w.Write(ans.body.Bytes())
		s.faults.answered(i, seq, ans.status, ok, false)
	}
}

// callAt returns the call at index i if the log still holds it.
func (f *faultState) callAt(i, seq int) Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	if i < len(f.log) && f.log[i].Seq == seq {
		return f.log[i]
	}
	return Call{Seq: seq}
}

// answerOK reads whether an answer reports success.
func answerOK(method string, ans *bufferedAnswer) bool {
	if ans.status != http.StatusOK {
		return false
	}
	if method == MethodResponseURL {
		return true
	}
	var r struct {
		OK bool `json:"ok"`
	}
	return json.Unmarshal(ans.body.Bytes(), &r) == nil && r.OK
}

// channelParam reads the channel a call names, from its query, a
// URL-encoded form or a JSON body ("" if none).
func channelParam(hr *http.Request, body []byte) string {
	if c := hr.URL.Query().Get("channel"); c != "" {
		return c
	}
	ctype, _, _ := mime.ParseMediaType(hr.Header.Get("Content-Type"))
	switch ctype {
	case "application/json":
		var p struct {
			Channel string `json:"channel"`
		}
		_ = json.Unmarshal(body, &p)
		return p.Channel
	case "application/x-www-form-urlencoded":
		if v, err := url.ParseQuery(string(body)); err == nil {
			return v.Get("channel")
		}
	}
	return ""
}
