package crashtest

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// sitrepBin is the sitrep binary TestMain built for this run.
var sitrepBin string

// minParallel is how many crash tests run at once unless -parallel says
// otherwise: they spend their time waiting on child processes, deadlines
// and slow answers, not on this process's CPU, and run one after another
// they would take several times as long.
const minParallel = 12

// TestMain builds the sitrep binary once for the package's tests, without
// -race even when the tests run with it (the child is the system under
// test, not the test).
func TestMain(m *testing.M) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		if n, _ := strconv.Atoi(flag.Lookup("test.parallel").Value.String()); n < minParallel {
			_ = flag.Set("test.parallel", strconv.Itoa(minParallel))
		}
	}
	if testing.Short() {
		os.Exit(m.Run()) // every test skips itself
	}
	dir, err := os.MkdirTemp("", "sitrep-crash-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "crashtest:", err)
		os.Exit(1)
	}
	sitrepBin = filepath.Join(dir, "sitrep")
	start := time.Now()
	cmd := exec.Command("go", "build", "-o", sitrepBin, "github.com/sitrep/sitrep/cmd/sitrep")
	cmd.Env = append(os.Environ(), "GOFLAGS="+withoutRace(os.Getenv("GOFLAGS")))
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "crashtest: go build ./cmd/sitrep: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	if testing.Verbose() {
		fmt.Printf("crashtest: built sitrep in %v\n", time.Since(start).Round(time.Millisecond))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// withoutRace returns GOFLAGS without -race.
func withoutRace(goflags string) string {
	var keep []string
	for _, f := range strings.Fields(goflags) {
		if f != "-race" && f != "--race" && f != "-race=true" {
			keep = append(keep, f)
		}
	}
	return strings.Join(keep, " ")
}

// long reports whether the long suite was asked for (SITREP_CRASH_LONG=1).
func long() bool { return os.Getenv("SITREP_CRASH_LONG") == "1" }

// settleTime is how long a flow may take to finish after the last restart:
// SITREP_CRASH_SETTLE, default 30 s. A crashed job is reclaimed by its own
// instance at once, so this is generous.
func settleTime(t testing.TB) time.Duration {
	if v := os.Getenv("SITREP_CRASH_SETTLE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			t.Fatalf("SITREP_CRASH_SETTLE=%q: want a duration such as 90s", v)
		}
		return d
	}
	return 30 * time.Second
}

// skipShort skips a crash test under -short.
func skipShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("crash suite: skipped with -short (it runs the sitrep binary for about a minute)")
	}
}
