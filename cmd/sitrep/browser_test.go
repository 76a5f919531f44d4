package main

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sitrep/sitrep/internal/browsertest"
	"github.com/sitrep/sitrep/internal/slacksim"
)

// startSiteRun runs `sitrep run` against sim with the dashboard on (the
// simulator's Sign in with Slack) and returns its base URL.
func startSiteRun(t *testing.T, sim *slacksim.Sim) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	base := "http://" + addr
	env := map[string]string{
		"SLACK_BOT_TOKEN":     sim.BotToken(),
		"SLACK_APP_TOKEN":     sim.AppToken(),
		"SLACK_API_URL":       sim.APIURL(),
		"SLACK_CLIENT_ID":     sim.ClientID(),
		"SLACK_CLIENT_SECRET": sim.ClientSecret(),
		"SITREP_BASE_URL":     base,
		"SITREP_DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "run.db"),
		"SITREP_HTTP_ADDR":    addr,
		"SITREP_API_TOKEN":    "api-secret-token",
		"SITREP_LOG_LEVEL":    "debug",
	}
	t.Chdir(t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	var logs syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"run"}, func(k string) string { return env[k] }, strings.NewReader(""), &logs, &logs)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Error("sitrep run did not stop")
		}
	})
	wctx, wcancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer wcancel()
	if err := sim.Wait(wctx, func() bool { return sim.Connections() >= 1 }); err != nil {
		t.Fatalf("sitrep run did not connect: %v\nlogs:\n%s", err, logs.String())
	}
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			// Up, with the trends read ahead of the first visit.
			if strings.Contains(logs.String(), "web dashboard on") && strings.Contains(logs.String(), "dashboard trends read ahead") {
				break
			}
		}
		if wctx.Err() != nil {
			t.Fatalf("the dashboard did not come up at %s\nlogs:\n%s", base, logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Cleanup(func() {
		if strings.Contains(logs.String(), sim.ClientSecret()) {
			t.Error("the client secret is in the logs")
		}
	})
	return base
}

// TestBrowserSignIn drives Chromium: a signed-out visitor is shown the
// sign-in page, signs in through the simulator's Sign in with Slack, lands
// where they were going and sees their name, signs out, and is then sent
// back to sign in, with no data, when they open the incidents.
func TestBrowserSignIn(t *testing.T) {
	b := browsertest.New(t, 1024, 768)
	sim := startSim(t)
	sim.AddChannel("general", "U0ALICE")
	sim.SetSignInUser("U0ALICE")
	base := startSiteRun(t, sim)
	const wait = 15 * time.Second

	b.Do("opening /account signed out", wait, chromedp.Navigate(base+"/account"), chromedp.WaitVisible(chromedp.CSS("a.button")))
	if loc, _ := url.Parse(b.Location()); loc.Path != "/signin" || loc.Query().Get("next") != "/account" {
		t.Errorf("a signed-out visit to /account ended at %s, want /signin?next=/account", loc)
	}
	if text := b.Text(); strings.Contains(text, "U0ALICE") || !strings.Contains(text, "Sign in with Slack") {
		t.Errorf("the sign-in page says %q", text)
	}
	b.Screenshot("signin")

	b.Do("signing in with Slack", wait, chromedp.Click(chromedp.CSS("a.button")), chromedp.WaitVisible(chromedp.CSS("form button[type=submit]")))
	if loc, _ := url.Parse(b.Location()); loc.Host != strings.TrimPrefix(base, "http://") || loc.Path != "/account" {
		t.Errorf("after signing in the browser is at %s, want %s/account", loc, base)
	}
	if text := b.Text(); !strings.Contains(text, "Alice Liddell (U0ALICE)") {
		t.Errorf("signed in, /account says %q, want Alice's name", text)
	}
	b.Screenshot("account")

	// The dashboard's home goes to the incidents, signed in.
	b.Do("opening the dashboard", wait, chromedp.Navigate(base+"/"), chromedp.WaitReady(chromedp.CSS("body")))
	if loc, _ := url.Parse(b.Location()); loc.Path != "/incidents" {
		t.Errorf("signed in, / led to %s, want /incidents", loc)
	}
	// Once the incidents page is there, its header names who is signed in.
	header := browsertest.Run(b, "reading the header", wait, chromedp.Evaluate[string](
		`(document.querySelector("form.signout") || {innerText: "no dashboard page"}).innerText`))
	if header == "no dashboard page" {
		t.Logf("no dashboard page at /incidents yet: %q", b.Text())
	} else if !strings.Contains(header, "Alice Liddell") {
		t.Errorf("the dashboard's header says %q, want Alice's name", header)
	}
	b.Screenshot("dashboard")

	b.Do("signing out", wait, chromedp.Navigate(base+"/account"), chromedp.WaitVisible(chromedp.CSS("form button[type=submit]")),
		chromedp.Click(chromedp.CSS("form button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("a.button")))
	if loc, _ := url.Parse(b.Location()); loc.Path != "/signedout" {
		t.Errorf("after signing out the browser is at %s, want /signedout", loc)
	}
	b.Screenshot("signed-out")

	b.Do("opening the incidents signed out", wait, chromedp.Navigate(base+"/incidents"), chromedp.WaitVisible(chromedp.CSS("a.button")))
	if loc, _ := url.Parse(b.Location()); loc.Path != "/signin" || loc.Query().Get("next") != "/incidents" {
		t.Errorf("a signed-out visit to /incidents ended at %s, want /signin?next=/incidents", loc)
	}
	if text := b.Text(); strings.Contains(text, "Alice") || strings.Contains(text, "INC-") {
		t.Errorf("signed out, the page shows data: %q", text)
	}
	b.Screenshot("incidents-signed-out")

	// On a phone, the sign-in page fits the screen: nothing scrolls sideways.
	phone := browsertest.New(t, 390, 844)
	phone.Do("opening /signin on a phone", wait, chromedp.Navigate(base+"/signin"), chromedp.WaitVisible(chromedp.CSS("a.button")))
	if w := browsertest.Run(phone, "measuring the page", wait, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > 390 {
		t.Errorf("on a 390 px wide phone the sign-in page is %d px wide", w)
	}
	phone.Screenshot("signin-phone")
}

// TestBrowserIncidents drives Chromium through the incidents as a person
// reading them would: signed in as alice, the list shows her incident and
// a private one she is not in as "private" with no title; the severity
// filter narrows it; the incident's page follows a status change made in
// Slack without a reload; the CSV download holds the list without the
// private title.
func TestBrowserIncidents(t *testing.T) {
	b := browsertest.New(t, 1200, 900)
	sim := startSim(t)
	sim.AddUser(slacksim.User{ID: "U0BOB", Name: "bob", RealName: "Bob Dobbs"})
	general := sim.AddChannel("general", "U0ALICE", "U0BOB")
	sim.AddChannel("incidents", "U0ALICE", "U0BOB")
	sim.SetSignInUser("U0ALICE")
	base := startSiteRun(t, sim)
	const wait = 20 * time.Second
	const secret = "Zanzibar badge cloning"
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	slash := func(user, channel, text string) {
		t.Helper()
		if _, err := sim.SlashCommand(ctx, user, channel, "/incident", text); err != nil {
			t.Fatalf("/incident %s: %v", text, err)
		}
	}
	// One at a time, so that the numbers are known: INC-1, INC-2, INC-3.
	open := func(user, text, room string) string {
		t.Helper()
		slash(user, general, text)
		var id string
		if err := sim.Wait(ctx, func() bool {
			if ch := sim.ChannelByName(room); ch != nil {
				id = ch.ID
			}
			return id != ""
		}); err != nil {
			t.Fatalf("no room %s after /incident %s: %v", room, text, err)
		}
		return id
	}
	room := open("U0ALICE", "open checkout fails sev1 systems:web", "inc-1-checkout-fails")
	open("U0BOB", "open --private "+secret+" sev2 systems:door", "inc-2-private")
	open("U0ALICE", "open search is slow sev3 systems:search", "inc-3-search-is-slow")

	b.Do("signing in", wait, chromedp.Navigate(base+"/incidents"), chromedp.WaitVisible(chromedp.CSS("a.button")),
		chromedp.Click(chromedp.CSS("a.button")), chromedp.WaitVisible(chromedp.CSS("form.filters")))
	list := b.Text()
	for _, want := range []string{"checkout fails", "search is slow", "INC-2"} {
		if !strings.Contains(list, want) {
			t.Errorf("the incidents list lacks %q:\n%s", want, list)
		}
	}
	if strings.Contains(list, secret) || strings.Contains(list, "door") {
		t.Errorf("the list shows a private incident alice is not in:\n%s", list)
	}
	b.Screenshot("incidents")

	b.Do("filtering SEV1", wait, chromedp.SetValue(chromedp.CSS(`select[name=severity]`), "sev1"),
		chromedp.Click(chromedp.CSS(`form.filters button[type=submit]`)))
	// The click starts a navigation: wait for the filtered page itself,
	// not the old one still on screen.
	b.WaitLocation("waiting for the filtered list", wait, func(u string) bool { return strings.Contains(u, "severity=sev1") })
	if loc, _ := url.Parse(b.Location()); loc.Query().Get("severity") != "sev1" {
		t.Errorf("the filter led to %s", loc)
	}
	if text := b.Text(); !strings.Contains(text, "checkout fails") || strings.Contains(text, "search is slow") {
		t.Errorf("filtered to SEV1, the list says:\n%s", text)
	}
	b.Screenshot("incidents-sev1")

	b.Do("opening INC-1", wait, chromedp.Navigate(base+"/incidents/INC-1"), chromedp.WaitVisible(chromedp.CSS("#facts")))
	if text := b.Text(); !strings.Contains(text, "Investigating") {
		t.Errorf("INC-1's page says:\n%s", text)
	}
	// Mark this load of the page: a reload would lose the mark.
	browsertest.Run(b, "marking the page", wait, chromedp.Evaluate[bool](`window.__sameLoad = true`))
	slash("U0ALICE", room, "status identified the payment provider fails over")
	b.Do("waiting for the status to change live", wait,
		chromedp.WaitVisible(chromedp.CSS(`#facts dd.status-identified`)))
	if !browsertest.Run(b, "checking the page was not reloaded", wait, chromedp.Evaluate[bool](`window.__sameLoad === true`)) {
		t.Error("the page was reloaded to show the change; it should follow it live")
	}
	if text := b.Text(); !strings.Contains(text, "the payment provider fails over") {
		t.Errorf("the timeline did not follow the update:\n%s", text)
	}
	b.Screenshot("incident-live")

	csv := browsertest.Run(b, "downloading the CSV", wait, chromedp.Evaluate[string](
		`fetch("/incidents.csv?state=all").then(r => r.ok ? r.text() : "HTTP " + r.status)`, chromedp.EvalAwaitPromise))
	if !strings.Contains(csv, "checkout fails") || !strings.Contains(csv, "INC-2") || strings.Contains(csv, secret) {
		t.Errorf("the CSV is:\n%s", csv)
	}

	// The private incident's own page is not found for alice.
	b.Do("opening INC-2", wait, chromedp.Navigate(base+"/incidents/INC-2"), chromedp.WaitReady(chromedp.CSS("main")))
	if text := b.Text(); strings.Contains(text, secret) || !strings.Contains(strings.ToLower(text), "not found") {
		t.Errorf("alice opening the private INC-2 sees:\n%s", text)
	}
	b.Screenshot("private-not-found")
}

// pageAudit is what TestBrowserPages reads of each page in the browser.
type pageAudit struct {
	Title      string   `json:"title"`
	Lang       string   `json:"lang"`
	Unlabelled []string `json:"unlabelled"`
	NoScope    int      `json:"noScope"`
	Width      int      `json:"width"`
	H1         string   `json:"h1"`
}

// auditJS reads a pageAudit: the form controls with no label (a <label>,
// aria-label or, for a button, its text), the table headers without a
// scope, and how wide the page is.
const auditJS = `(() => {
  const named = e => (e.labels && e.labels.length > 0) || e.getAttribute("aria-label") ||
    (e.tagName === "BUTTON" && e.textContent.trim() !== "");
  const controls = [...document.querySelectorAll("input:not([type=hidden]), select, textarea, button")];
  const h1 = document.querySelector("h1");
  return {
    title: document.title, lang: document.documentElement.lang,
    unlabelled: controls.filter(e => !named(e)).map(e => e.name || e.outerHTML.slice(0, 80)),
    noScope: document.querySelectorAll("th:not([scope])").length,
    width: document.documentElement.scrollWidth,
    h1: h1 ? h1.innerText : "",
  };
})()`

// TestBrowserPages drives Chromium through every section of the
// dashboard, on a desktop and on a 375 px phone: each page has a title, a
// language, a label for every control and a scope for every table
// header, and the skip link is the first stop of the keyboard, visibly
// focused; on the phone nothing scrolls sideways. The change log finds
// Bob's change by his name as Slack tells it, though it was logged under
// his user ID.
func TestBrowserPages(t *testing.T) {
	b := browsertest.New(t, 1200, 900)
	sim := startSim(t)
	sim.AddUser(slacksim.User{ID: "U0BOB", Name: "bob", RealName: "Bob Dobbs"})
	general := sim.AddChannel("general", "U0ALICE", "U0BOB")
	sim.AddChannel("incidents", "U0ALICE", "U0BOB")
	sim.SetSignInUser("U0ALICE")
	base := startSiteRun(t, sim)
	const wait = 20 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	slash := func(user, command, text string) {
		t.Helper()
		if _, err := sim.SlashCommand(ctx, user, general, command, text); err != nil {
			t.Fatalf("%s %s: %v", command, text, err)
		}
	}
	slash("U0BOB", "/change", "web: raised the pool to 50 because timeouts")
	slash("U0ALICE", "/change", "search: reindexed the catalogue")
	slash("U0ALICE", "/incident", "open checkout fails sev1 systems:web")
	if err := sim.Wait(ctx, func() bool { return sim.ChannelByName("inc-1-checkout-fails") != nil }); err != nil {
		t.Fatalf("no incident room: %v", err)
	}

	b.Do("signing in", wait, chromedp.Navigate(base+"/changes"), chromedp.WaitVisible(chromedp.CSS("a.button")),
		chromedp.Click(chromedp.CSS("a.button")), chromedp.WaitVisible(chromedp.CSS("form.filters")))
	b.Do("searching the change log for Dobbs", wait, chromedp.SetValue(chromedp.CSS(`input[name=person]`), "dobbs"),
		chromedp.Click(chromedp.CSS(`form.filters button[type=submit]`)))
	b.WaitLocation("waiting for the search", wait, func(u string) bool { return strings.Contains(u, "person=dobbs") })
	if text := b.Text(); !strings.Contains(text, "raised the pool to 50") || strings.Contains(text, "reindexed the catalogue") ||
		!strings.Contains(text, "Bob Dobbs") {
		t.Errorf("the change log searched for dobbs says:\n%s", text)
	}
	b.Screenshot("changes-dobbs")

	phone := browsertest.New(t, 375, 812)
	phone.Do("signing in on the phone", wait, chromedp.Navigate(base+"/incidents"), chromedp.WaitVisible(chromedp.CSS("a.button")),
		chromedp.Click(chromedp.CSS("a.button")), chromedp.WaitVisible(chromedp.CSS("main h1")))
	pages := []struct{ path, name, h1 string }{
		{"/incidents?state=all", "incidents", "Incidents"},
		{"/incidents/INC-1", "incident", "INC-1"},
		{"/changes", "changes", "Change log"},
		{"/problems", "problems", "Problems"},
		{"/postmortems", "postmortems", "Postmortem actions"},
		{"/trends?weeks=12", "trends", "Trends"},
	}
	for _, br := range []*browsertest.Browser{b, phone} {
		for _, p := range pages {
			br.Do("opening "+p.path, wait, chromedp.Navigate(base+p.path), chromedp.WaitVisible(chromedp.CSS("main h1")))
			a := browsertest.Run(br, "auditing "+p.path, wait, chromedp.Evaluate[pageAudit](auditJS))
			if !strings.HasSuffix(a.Title, "· sitrep") || !strings.Contains(a.Title, strings.SplitN(p.h1, " ", 2)[0]) || !strings.Contains(a.H1, p.h1) {
				t.Errorf("%s: title %q, heading %q; want both to name %q", p.path, a.Title, a.H1, p.h1)
			}
			if a.Lang != "en" {
				t.Errorf("%s: lang %q", p.path, a.Lang)
			}
			if len(a.Unlabelled) > 0 {
				t.Errorf("%s: controls without a label: %q", p.path, a.Unlabelled)
			}
			if a.NoScope > 0 {
				t.Errorf("%s: %d table headers without a scope", p.path, a.NoScope)
			}
			if br == phone && a.Width > 375 {
				t.Errorf("%s on a 375 px phone is %d px wide: it scrolls sideways", p.path, a.Width)
			}
			br.Screenshot(p.name)
		}
	}
	// The keyboard's first stop is the skip link, shown with a focus ring.
	b.Do("opening the trends", wait, chromedp.Navigate(base+"/trends"), chromedp.WaitVisible(chromedp.CSS("main h1")),
		chromedp.KeyEvent("\t"))
	focus := browsertest.Run(b, "reading the focus", wait, chromedp.Evaluate[string](`(() => {
	  const e = document.activeElement, r = e.getBoundingClientRect(), s = getComputedStyle(e);
	  return e.className + " " + (r.left >= 0 && r.top >= 0 && r.width > 0) + " " + s.outlineStyle;
	})()`))
	if focus != "skip true solid" {
		t.Errorf("after one Tab the focus is %q, want the skip link, on screen, outlined (skip true solid)", focus)
	}
	b.Screenshot("skip-link-focused")
}
