package slacksim_test

import (
	"net/http"
	"testing"

	"github.com/slack-go/slack"

	"github.com/sitrep/sitrep/internal/slacksim"
)

// TestAcceptedConnections: a client that keeps its connection alive opens
// one for many calls; one that does not opens one per call.
func TestAcceptedConnections(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		keepAlive bool
		want      int64
	}{{"keep-alive", true, 1}, {"a connection per call", false, 10}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sim, _ := newSim(t, slacksim.Options{})
			tr := http.DefaultTransport.(*http.Transport).Clone()
			tr.DisableKeepAlives = !tc.keepAlive
			api := slack.New(sim.BotToken(), slack.OptionAPIURL(sim.APIURL()), slack.OptionHTTPClient(&http.Client{Transport: tr}))
			before := sim.AcceptedConnections()
			for range 10 {
				if _, err := api.AuthTest(); err != nil {
					t.Fatal(err)
				}
			}
			if got := sim.AcceptedConnections() - before; got != tc.want {
				t.Errorf("10 calls opened %d connections, want %d", got, tc.want)
			}
		})
	}
}
