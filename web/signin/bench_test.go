package signin_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/sitrep/sitrep/internal/pgtest"
	"github.com/sitrep/sitrep/storage"
	"github.com/sitrep/sitrep/web/signin"
)

// BenchmarkGuard is the cost sign-in adds to every page: reading the
// session by its cookie's hash (and, once a minute, moving its expiry),
// among 10,000 sessions.
func BenchmarkGuard(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) {
		benchGuard(b, "sqlite:"+filepath.Join(b.TempDir(), "bench.db"))
	})
	b.Run("postgres", func(b *testing.B) { benchGuard(b, pgtest.URL(b)) })
}

func benchGuard(b *testing.B, dbURL string) {
	ctx := context.Background()
	store, err := storage.Open(ctx, dbURL)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	if err := store.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC()
	for i := range 10_000 {
		s := signin.Session{IDHash: signin.HashID(secretFor(i)), User: signin.User{ID: "U0ALICE", TeamID: "T0SIM", Name: "Alice"},
			CSRF: "t", Created: now, LastSeen: now, Expires: now.Add(time.Hour)}
		if err := store.CreateSession(ctx, s); err != nil {
			b.Fatal(err)
		}
	}
	auth, err := signin.New(ctx, signin.Config{
		Issuer: "http://127.0.0.1:1", ClientID: "1.2", ClientSecret: "s", BaseURL: "http://127.0.0.1:8080",
		TeamID: "T0SIM", Store: store, Now: func() time.Time { return now },
		HTTPClient: &http.Client{Timeout: time.Millisecond},
	})
	if err != nil {
		b.Fatal(err)
	}
	h := auth.Guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := signin.UserFrom(r.Context()); !ok {
			b.Fatal("no user")
		}
	}))
	req := httptest.NewRequest("GET", "/incidents", nil)
	req.AddCookie(&http.Cookie{Name: signin.SessionCookie, Value: secretFor(4242)})
	b.ResetTimer()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("guard answered %d", w.Code)
		}
	}
}

func secretFor(i int) string { return fmt.Sprintf("bench-secret-%05d", i) }
