// Package slacksim is a Slack workspace simulator. It serves the Web API
// over real HTTP and Socket Mode over a real WebSocket, so the unmodified
// slack-go client and its socketmode client connect to it exactly as to
// Slack:
//
//	api := slack.New(sim.BotToken(), slack.OptionAPIURL(sim.APIURL()),
//		slack.OptionAppLevelToken(sim.AppToken()))
//	client := socketmode.New(api)
//	go client.RunContext(ctx)
//
// Slack's official Node clients connect the same way, configured only
// through their documented options: @slack/web-api with
// { slackApiUrl: sim.APIURL() }, @slack/socket-mode with { appToken,
// clientOptions: { slackApiUrl: sim.APIURL() } }. nodeclient_test.go runs
// them (internal/slacksim/nodeclient) against the simulator.
//
// Private channels behave as Slack documents them for the bot's token: one
// the bot is not in does not exist for its Web API calls
// (channel_not_found), conversations.list shows one only when types names
// private_channel and the bot is in it, and no one types a slash command in
// one they are not in.
//
// Tests seed it (AddUser, AddChannel, AddPrivateChannel), drive it as a
// user would (SlashCommand, Click, Submit, SendEvent) and read back what the
// workspace holds (Channels, Messages, Pins, Topic, Ephemerals, OpenViews,
// Files). A workspace can be kept between runs: Save writes it to a JSON
// file, Load starts from one, and Options.StatePath keeps it saved (see
// persist.go); Options.FilesDir writes uploaded files to a folder.
// Every method is safe for concurrent use.
package slacksim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	_ "time/tzdata" // users.info computes tz_offset for any IANA zone
)

// Defaults for Options fields left zero.
const (
	DefaultBotToken        = "xoxb-0000000000-0000000000000-slacksimbottoken0000"
	DefaultAppToken        = "xapp-1-A0SITREP-0000000000-slacksimapptoken0000"
	DefaultTeamID          = "T0SIM"
	DefaultTeamDomain      = "sitrep-sim"
	DefaultTeamName        = "Sitrep Sim"
	DefaultAppID           = "A0SITREP"
	DefaultBotUserID       = "UBOT"
	DefaultBotName         = "sitrep"
	DefaultBotID           = "B0SITREP"
	DefaultAckTimeout      = 3 * time.Second
	DefaultTriggerLifetime = 3 * time.Second
	DefaultPingInterval    = 10 * time.Second
	DefaultMaxConnections  = 10
	DefaultRefreshGrace    = 10 * time.Second
	DefaultEventRetries    = 3
	DefaultMaxFileSize     = 1 << 30 // Slack's 1 GB
	DefaultCreateLag       = 300 * time.Millisecond
	DefaultHookUses        = 5
	DefaultHookLifetime    = 30 * time.Minute
)

// Options configures a Sim. The zero value is a working workspace.
type Options struct {
	// BotToken is the bot token ("xoxb-…") every Web API method except
	// apps.connections.open requires. Default DefaultBotToken.
	BotToken string
	// AppToken is the app-level token ("xapp-…") apps.connections.open
	// requires. Default DefaultAppToken.
	AppToken string
	// TeamID, TeamDomain and TeamName describe the workspace.
	TeamID, TeamDomain, TeamName string
	// AppID is the app's ID, sent as api_app_id and in hello.
	AppID string
	// BotUserID, BotName and BotID describe the bot user.
	BotUserID, BotName, BotID string
	// AckTimeout is how long an envelope may wait for its ack (Slack: 3s).
	// An events_api envelope not acked in time is redelivered; a slash
	// command or interaction not acked in time is recorded in Unacked.
	AckTimeout time.Duration
	// TriggerLifetime is how long a trigger_id may be used with views.open
	// after it was issued (Slack: 3s), measured with Now.
	TriggerLifetime time.Duration
	// PingInterval is how often each connection gets a WebSocket PING.
	PingInterval time.Duration
	// MaxConnections caps open Socket Mode connections (Slack: 10).
	MaxConnections int
	// RefreshGrace is how long a connection stays in the delivery
	// rotation after Refresh warned it (Slack: about 10s). Default
	// DefaultRefreshGrace; tests shorten it.
	RefreshGrace time.Duration
	// EventRetries is how many times an unacked events_api envelope is
	// redelivered (Slack: 3). Negative means none.
	EventRetries int
	// MaxFileSize caps the length, in bytes, files.getUploadURLExternal
	// accepts; a larger upload is refused with file_upload_size_restricted.
	// Default DefaultMaxFileSize.
	MaxFileSize int
	// NoWritePublic takes the chat:write.public scope away: chat.postMessage
	// to a public channel the bot has not joined answers not_in_channel.
	// By default the app has it, as sitrep's manifest asks.
	NoWritePublic bool
	// CreateLag is how long a channel made by conversations.create stays
	// invisible to the bot's other Web API calls (they answer
	// channel_not_found), as Slack's eventual consistency does for a moment.
	// Default DefaultCreateLag; negative turns it off. Real time.
	CreateLag time.Duration
	// MemberEvents subscribes the app to member_joined_channel and
	// member_left_channel: a person joining (Join), being invited
	// (conversations.invite) or leaving (RemoveMember) a channel the bot
	// is in is then sent to the app as an events_api envelope. Off by
	// default, as for an app whose manifest does not ask for them.
	MemberEvents bool
	// Addr is the address Start listens on, e.g. "127.0.0.1:3210".
	// Default "127.0.0.1:0": a free port on the loopback interface.
	Addr string
	// StatePath is the JSON file the workspace is kept in (see persist.go):
	// Load reads it, and a started simulator saves to it a moment after
	// each change and when it closes. Empty: nothing is saved.
	StatePath string
	// FilesDir is a folder that files.completeUploadExternal writes each
	// completed upload to, as "<file ID>-<name>" with the name made safe
	// (File.Path holds where). It is created when needed. Empty: the bytes
	// are kept in memory only.
	FilesDir string
	// Now is the clock for message timestamps, trigger ages and rate
	// limits. Default time.Now. Ack timeouts and pings use real time.
	Now func() time.Time
	// Log receives the simulator's logs; nil discards them. Tokens are
	// never logged.
	Log *slog.Logger
	// OIDC configures Sign in with Slack (oidc.go).
	OIDC OIDCOptions
}

func (o Options) withDefaults() Options {
	def := func(s *string, d string) {
		if *s == "" {
			*s = d
		}
	}
	def(&o.BotToken, DefaultBotToken)
	def(&o.AppToken, DefaultAppToken)
	def(&o.TeamID, DefaultTeamID)
	def(&o.TeamDomain, DefaultTeamDomain)
	def(&o.TeamName, DefaultTeamName)
	def(&o.AppID, DefaultAppID)
	def(&o.BotUserID, DefaultBotUserID)
	def(&o.BotName, DefaultBotName)
	def(&o.BotID, DefaultBotID)
	if o.AckTimeout <= 0 {
		o.AckTimeout = DefaultAckTimeout
	}
	if o.TriggerLifetime <= 0 {
		o.TriggerLifetime = DefaultTriggerLifetime
	}
	if o.PingInterval <= 0 {
		o.PingInterval = DefaultPingInterval
	}
	if o.MaxConnections <= 0 {
		o.MaxConnections = DefaultMaxConnections
	}
	if o.RefreshGrace <= 0 {
		o.RefreshGrace = DefaultRefreshGrace
	}
	if o.EventRetries == 0 {
		o.EventRetries = DefaultEventRetries
	}
	if o.EventRetries < 0 {
		o.EventRetries = 0
	}
	if o.MaxFileSize <= 0 {
		o.MaxFileSize = DefaultMaxFileSize
	}
	if o.CreateLag == 0 {
		o.CreateLag = DefaultCreateLag
	}
	if o.CreateLag < 0 {
		o.CreateLag = 0
	}
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	o.OIDC = o.OIDC.withDefaults()
	return o
}

// Sim is a simulated Slack workspace. Create it with New, then Start it.
type Sim struct {
	opts Options
	log  *slog.Logger

	// mu guards the workspace state below and in state.go.
	mu      sync.Mutex
	ws      workspace
	changed chan struct{} // closed and replaced on every change

	api    apiState    // call counters, rate limits, faults
	socket socketState // connections and deliveries
	faults faultState  // held and delayed answers, the call log (faults.go)
	oidc   oidcState   // Sign in with Slack (oidc.go)

	// saveMu serialises Save; lastSaved is what was last written to
	// Options.StatePath, so an unchanged workspace is not written again.
	saveMu    sync.Mutex
	lastSaved []byte
	conns     connCounter // accepted TCP connections (conncount.go)

	srv      *http.Server
	ln       net.Listener
	baseURL  string
	closed   chan struct{}
	closeOne sync.Once
	wg       sync.WaitGroup
}

// New returns a simulator configured by opts. It holds the bot user and no
// other users or channels; call Start before connecting clients.
func New(opts Options) *Sim {
	opts = opts.withDefaults()
	s := &Sim{
		opts:    opts,
		log:     opts.Log,
		changed: make(chan struct{}),
		closed:  make(chan struct{}),
	}
	s.ws.init()
	s.api.init()
	s.socket.init()
	s.ws.users[opts.BotUserID] = &User{ID: opts.BotUserID, Name: opts.BotName, RealName: opts.BotName, IsBot: true, TZ: "UTC"}
	s.ws.userOrder = append(s.ws.userOrder, opts.BotUserID)
	return s
}

// Start listens on Options.Addr (by default 127.0.0.1 on a free port) and
// serves the Web API under /api/, Socket Mode under /ws, file uploads under
// /upload/ and file downloads (url_private) under /files-pri/. With
// Options.StatePath set it keeps the workspace saved there.
func (s *Sim) Start() error {
	ln, err := net.Listen("tcp", s.opts.Addr)
	if err != nil {
		return fmt.Errorf("slacksim: listening on %s: %w", s.opts.Addr, err)
	}
	ln = s.conns.counting(ln)
	s.ln = ln
	s.baseURL = "http://" + ln.Addr().String()
	mux := http.NewServeMux()
	mux.HandleFunc("/api/{method}", s.withFaults("", s.serveAPI))
	mux.HandleFunc("/ws", s.serveWS)
	mux.HandleFunc("POST /upload/{id}", s.serveUpload)
	mux.HandleFunc("GET /files-pri/{key}/{name}", s.serveFile)
	mux.HandleFunc("POST /commands/{team}/{id}", s.withFaults(MethodResponseURL, s.serveHook))
	mux.HandleFunc("POST /actions/{team}/{id}", s.withFaults(MethodResponseURL, s.serveHook))
	s.oidcRoutes(mux)
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("slacksim: serving", "err", err)
		}
	}()
	if s.opts.StatePath != "" {
		s.mu.Lock()
		changed := s.changed
		s.mu.Unlock()
		s.wg.Add(1)
		go s.autosave(changed)
	}
	s.log.Info("slacksim: started", "url", s.baseURL)
	return nil
}

// Close drops every connection, stops the server and waits for its
// goroutines; with Options.StatePath set it then saves the workspace one
// last time (a failure is logged). It is safe to call more than once.
func (s *Sim) Close() {
	s.closeOne.Do(func() {
		close(s.closed)
		s.DropConnections()
		if s.srv != nil {
			// Shutdown waits for calls in flight, but also counts a
			// connection opened with no request yet as busy for 5 s (a
			// client closing down often opens one): after a moment the
			// rest is closed.
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			defer cancel()
			if s.srv.Shutdown(ctx) != nil {
				_ = s.srv.Close()
			}
		}
		s.socket.stopTimers()
		s.wg.Wait()
		if s.opts.StatePath != "" {
			if err := s.Save(s.opts.StatePath); err != nil {
				s.log.Error("slacksim: saving the workspace", "err", err)
			}
		}
	})
}

// APIURL returns the Web API base URL, ending in "/api/", for
// slack.OptionAPIURL.
func (s *Sim) APIURL() string { return s.baseURL + "/api/" }

// BotToken returns the bot token ("xoxb-…").
func (s *Sim) BotToken() string { return s.opts.BotToken }

// AppToken returns the app-level token ("xapp-…").
func (s *Sim) AppToken() string { return s.opts.AppToken }

// BotUserID returns the bot user's ID.
func (s *Sim) BotUserID() string { return s.opts.BotUserID }

// TeamID returns the workspace's team ID.
func (s *Sim) TeamID() string { return s.opts.TeamID }

// notifyLocked wakes every Wait. Call with s.mu held.
func (s *Sim) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// notify wakes every Wait.
func (s *Sim) notify() {
	s.mu.Lock()
	s.notifyLocked()
	s.mu.Unlock()
}

// Wait blocks until cond returns true, re-checking it whenever the
// workspace, the connections or the deliveries change (and at least every
// 50ms). It returns ctx's error if ctx ends first. cond may call any
// read-back method of the Sim.
func (s *Sim) Wait(ctx context.Context, cond func() bool) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if cond() {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("slacksim: wait: %w", ctx.Err())
		case <-ch:
		case <-tick.C:
		}
	}
}
