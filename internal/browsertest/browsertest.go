// Package browsertest drives a real browser (Debian's Chromium, headless)
// with github.com/chromedp/chromedp for the web dashboard's tests, and
// keeps screenshots of what it saw as test artifacts.
//
// A test calls New; without a Chromium binary the test is skipped, saying
// so. Screenshots go to the folder named by ArtifactsEnv, or to the test's
// temporary folder; each path is logged.
package browsertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// ArtifactsEnv names the folder screenshots are kept in.
const ArtifactsEnv = "SITREP_TEST_ARTIFACTS"

// Binaries are the names a Chromium is looked for under, in order; the
// environment variable SITREP_CHROMIUM names one explicitly.
var Binaries = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// Browser is one headless browser with its own profile (cookies).
type Browser struct {
	// Ctx runs chromedp actions in the browser's tab.
	Ctx context.Context
	t   testing.TB
	dir string
	n   int
}

// Find returns the path of a Chromium binary, or "" when there is none.
func Find() string {
	if p := os.Getenv("SITREP_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range Binaries {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// New starts a browser for t, closed when t ends, with a window of
// width×height CSS pixels; narrower than 500, a phone's screen is
// emulated (mobile, touch). It skips t when no Chromium is installed.
func New(t testing.TB, width, height int) *Browser {
	t.Helper()
	path := Find()
	if path == "" {
		t.Skip("no Chromium found (looked for " + strings.Join(Binaries, ", ") + " and SITREP_CHROMIUM): skipping the real-browser test; apt-get install chromium")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // tests often run as root, where Chromium's sandbox will not start
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(width, height),
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); acancel() })
	var setup []chromedp.Action[chromedp.Void]
	if width < 500 {
		// A window is never narrower than 500 px: a phone is emulated.
		setup = append(setup, chromedp.EmulateViewport(int64(width), int64(height), chromedp.EmulateMobile, chromedp.EmulateTouch))
	}
	if err := chromedp.Do(ctx, setup...); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	dir := os.Getenv(ArtifactsEnv)
	if dir == "" {
		dir = t.TempDir()
	} else {
		dir = filepath.Join(dir, safe(t.Name()), fmt.Sprintf("%dx%d", width, height))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return &Browser{Ctx: ctx, t: t, dir: dir}
}

// Do runs actions in the browser within timeout, failing the test with
// what was being done when one fails.
func (b *Browser) Do(what string, timeout time.Duration, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, timeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("browser: %s: %v", what, err)
	}
}

// Run runs one action that answers a value, within timeout, failing the
// test with what was being done when it fails.
func Run[T any](b *Browser, what string, timeout time.Duration, action chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, timeout)
	defer cancel()
	v, err := chromedp.Run(ctx, action)
	if err != nil {
		b.t.Fatalf("browser: %s: %v", what, err)
	}
	return v
}

// Screenshot saves the whole page as a PNG named after name (numbered in
// order) and logs where.
func (b *Browser) Screenshot(name string) string {
	b.t.Helper()
	png := Run(b, "screenshot "+name, 15*time.Second, chromedp.FullScreenshot(100))
	b.n++
	path := filepath.Join(b.dir, fmt.Sprintf("%02d-%s.png", b.n, safe(name)))
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: %s", path)
	return path
}

// Location returns the tab's URL.
func (b *Browser) Location() string {
	return Run(b, "reading the location", 5*time.Second, chromedp.Location())
}

// WaitLocation waits, within timeout, until the tab has finished loading
// a URL that ok accepts: a click that navigates returns before the new
// page is there, and reading the page meanwhile may fail or read the old
// one, so reads are retried.
func (b *Browser) WaitLocation(what string, timeout time.Duration, ok func(url string) bool) {
	b.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(b.Ctx, time.Second)
		loc, err := chromedp.Run(ctx, chromedp.Location())
		var ready string
		if err == nil {
			ready, err = chromedp.Run(ctx, chromedp.Evaluate[string](`document.readyState`))
		}
		cancel()
		if err == nil && ready == "complete" && ok(loc) {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("browser: %s: still at %s (%v) after %s", what, loc, err, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Text returns the visible text of the page's body.
func (b *Browser) Text() string {
	return Run(b, "reading the page", 5*time.Second, chromedp.Text(chromedp.CSS("body")))
}

var unsafe = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func safe(s string) string { return unsafe.ReplaceAllString(s, "_") }
