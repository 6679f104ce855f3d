package ui

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/oauthdiag/oauthdiag/recorder"
	"github.com/oauthdiag/oauthdiag/sandbox"
)

// syntheticCalls is n recorded calls as the list sees them; every 7th failed.
func syntheticCalls(n int) []recorder.Summary {
	base := time.Date(2025, 11, 23, 9, 0, 0, 0, time.UTC)
	out := make([]recorder.Summary, n)
	for i := range out {
		s := recorder.Summary{
			ID: fmt.Sprintf("c%d", i+1), Seq: i + 1, Step: "api-call", Kind: recorder.KindHTTP, Method: "GET",
			URL: fmt.Sprintf("https://api.example.com/v2/items/%d?page=%d", i, i%50), Status: 200,
			Started: base.Add(time.Duration(i) * time.Millisecond), Duration: time.Duration(i%900) * time.Millisecond,
		}
		if i%7 == 6 {
			s.Status, s.Failed = 503, true
		}
		out[i] = s
	}
	return out
}

func listModel(t testing.TB, n, w, h int) callsModel {
	st := NewStyles(true)
	m := newCallsModel(context.Background(), &st, nil, replayBackend{}, masker{red: recorder.NewRedactor()})
	m, _ = m.Update(callsReloadedMsg{calls: syntheticCalls(n)})
	return m.setSize(w, h)
}

// Only the rows on screen are rendered: the view has one line per visible row whatever the
// number of calls, and it follows the newest call until the user scrolls away.
func TestCallsListRendersOnlyVisibleRows(t *testing.T) {
	m := listModel(t, 100_000, 100, 20)
	lines := strings.Split(ansi.Strip(m.View("")), "\n")
	if len(lines) != 20 {
		t.Fatalf("the list is %d lines high, want 20", len(lines))
	}
	if last := lines[len(lines)-1]; !strings.Contains(last, "c100000") {
		t.Errorf("the list follows the newest call, last row is %q", last)
	}
	m, _ = m.Update(keyPress("g"))
	lines = strings.Split(ansi.Strip(m.View("")), "\n")
	if !strings.Contains(lines[2], "c1 ") || len(lines) != 20 {
		t.Errorf("g goes to the first call, first row is %q", lines[2])
	}
	m = m.upsert(recorder.Summary{ID: "c100001", Seq: 100001, Method: "GET", URL: "https://x.test/new", Status: 200})
	if strings.Contains(ansi.Strip(m.View("")), "c100001") {
		t.Errorf("a new call must not pull the list away from where the user scrolled")
	}
}

func TestCallsFilterAndFailedOnly(t *testing.T) {
	m := listModel(t, 1000, 100, 20)
	if !strings.Contains(ansi.Strip(m.View("")), "1000 recorded · 142 failed") {
		t.Fatalf("the title counts calls and failures:\n%s", ansi.Strip(m.View("")))
	}
	m, _ = m.Update(keyPress("f"))
	if len(m.visible) != 142 {
		t.Fatalf("f shows the 142 failed calls, got %d", len(m.visible))
	}
	for _, i := range m.visible {
		if !m.all[i].Failed {
			t.Fatalf("%s is not failed but shown", m.all[i].ID)
		}
	}
	m, _ = m.Update(keyPress("f"))
	m, _ = m.Update(keyPress("/"))
	m.filter.SetValue("items/77")
	m, _ = m.Update(keyPress("7")) // typing refilters live
	if len(m.visible) != 1 || m.all[m.visible[0]].ID != "c778" {
		var ids []string
		for _, i := range m.visible {
			ids = append(ids, m.all[i].ID)
		}
		t.Fatalf("filter “items/777” matches c778 only, got %v", ids)
	}
	m, _ = m.Update(keyPress("esc"))
	if len(m.visible) != 1000 {
		t.Errorf("esc clears the filter, %d shown", len(m.visible))
	}
	m, _ = m.Update(keyPress("/"))
	m.filter.SetValue("50")
	m, _ = m.Update(keyPress("3"))
	failedShown := 0
	for _, i := range m.visible {
		c := m.all[i]
		if c.Failed {
			failedShown++
		} else if !strings.Contains(c.ID+c.URL, "503") {
			t.Fatalf("filter 503 shows %s, which neither failed with 503 nor mentions it", c.ID)
		}
	}
	if failedShown != 142 {
		t.Errorf("filter 503 matches every call that answered 503, got %d of 142", failedShown)
	}
}

// BenchmarkCallsScreenView renders the whole screen with the Calls list of 100,000 calls.
func BenchmarkCallsScreenView(b *testing.B) {
	st := NewStyles(true)
	m := Model{styles: &st}
	m.keys = newGlobalKeys()
	m.calls = listModel(b, 100_000, 120, 33)
	m.tokens = newTokenPanel(&st, true, masker{red: recorder.NewRedactor()}).setWidth(120)
	m.status = statusBar{styles: &st, width: 120}
	m.width, m.height, m.screen = 120, 40, screenCalls
	m.help.SetWidth(120)
	b.ResetTimer()
	for b.Loop() {
		_ = m.View()
	}
}

var curlOSC = osc52

// A failed call shows its diagnosis; r replays it, and after switching the scenario the
// replay answers 200 beside the original 500.
func TestReplayAFailedCallAfterSwitchingTheScenario(t *testing.T) {
	env := newTestEnv(t, envOptions{scenario: sandbox.ServerError})
	s := env.start(t, 120, 40)
	s.waitFor("Discovery")
	s.keys("A")
	s.waitFor("✗ failed", "provider-outage", "Calls (1✗)")
	failed := env.failedCall(t).ID
	s.keys("3", "f", "enter")
	s.waitFor("Call "+failed+" · userinfo · GET 500 Internal Server Error", "Diagnosis", "provider-outage")
	s.keys("m")
	s.waitFor("Scenario", "● server-error")
	s.keys("up", "enter")
	s.waitFor("scenario happy")
	s.keys("r")
	s.waitFor("Replay: " + failed + " → ")
	replay := env.replayOf(failed)
	if replay == "" {
		t.Fatalf("the session records no replay of %s", failed)
	}
	s.waitFor("now "+replay, "HTTP/1.1 200 OK", failed+" resent as "+replay+": 500 → 200")
	scr := s.screen()
	for _, want := range []string{
		"original " + failed, "HTTP/1.1 500 Internal Server Error", `"code": "INTERNAL_SERVER_ERROR"`, // the original answer…
		`"name": "Ada Lovelace"`, // …beside the replay's userinfo
		"Calls (1✗)",             // the replay succeeded: no new failure
	} {
		if !strings.Contains(scr, want) {
			t.Errorf("the comparison lacks %q:\n%s", want, scr)
		}
	}
}

// e opens the editor; the edited request is resent and compared with the original.
func TestEditAndResend(t *testing.T) {
	env := newTestEnv(t, envOptions{scenario: sandbox.ServerError})
	s := env.start(t, 120, 40)
	s.waitFor("Discovery")
	s.keys("A")
	s.waitFor("✗ failed", "Calls (1✗)")
	env.sb.SetScenario(sandbox.Happy)
	// Going to Calls from a failed step lands on its call.
	failed := env.failedCall(t).ID
	s.keys("3", "enter")
	s.waitFor("Call " + failed + " · userinfo")
	s.keys("e")
	s.waitFor("Edit and resend "+failed, "▸ method")
	s.keys("backspace", "backspace", "backspace")
	s.typeText("DELETE")
	s.keys("ctrl+s")
	s.waitFor("Edited resend: "+failed+" → ", "405")
	resent := env.replayOf(failed)
	if resent == "" {
		t.Fatalf("the session records no resend of %s", failed)
	}
	s.waitUntil("the resend recorded", func(scr string) bool {
		return strings.Contains(scr, "replay of "+failed) || strings.Contains(scr, "now "+resent)
	})
}

// c copies the call as curl through OSC 52 and shows it; secrets become shell variables.
func TestCopyAsCurlHidesSecrets(t *testing.T) {
	env := newTestEnv(t, envOptions{})
	s := env.start(t, 120, 40)
	s.waitFor("Discovery")
	s.keys("A")
	s.waitFor("flow complete")
	s.keys("3", "/")
	s.typeText("exchange")
	s.keys("enter", "enter")
	s.waitFor("Call c4 · exchange")
	s.keys("c")
	var curl string
	teatest.WaitFor(t, s.tm.Output(), func(b []byte) bool {
		m := curlOSC.FindSubmatch(b)
		if m == nil {
			return false
		}
		raw, err := base64.StdEncoding.DecodeString(string(m[1]))
		curl = string(raw)
		return err == nil
	}, teatest.WithDuration(5*time.Second))
	s.waitFor("As curl (copied to the clipboard)")
	if !strings.Contains(curl, "curl ") || !strings.Contains(curl, "/oauth/v2/accessToken") {
		t.Fatalf("the clipboard holds the curl command, got %q", curl)
	}
	if strings.Contains(curl, sandbox.DefaultClientSecret) || !strings.Contains(curl, "$CLIENT_SECRET") {
		t.Errorf("the client secret must be a shell variable in the curl command:\n%s", curl)
	}
}

func TestCurlFromTheListOpensTheCall(t *testing.T) {
	env := newTestEnv(t, envOptions{})
	s := env.start(t, 120, 40)
	s.waitFor("Discovery")
	s.keys("enter")
	s.waitUntil("Discovery ok", func(scr string) bool { return stepMark(scr, "Discovery") == "✓" })
	s.keys("3", "c")
	s.waitFor("copied as curl", "As curl (copied to the clipboard)", "Call c1 · discovery")
}

// A reload after the subscription fell behind rebuilds the list: no call shows twice, a
// shorter list leaves no stale rows behind, and the selected call stays selected.
func TestReloadRebuildsTheList(t *testing.T) {
	m := listModel(t, 5, 100, 20)
	m, _ = m.Update(keyPress("up"))
	m, _ = m.Update(callsReloadedMsg{calls: syntheticCalls(5)})
	if len(m.all) != 5 || len(m.visible) != 5 {
		t.Fatalf("reloading the same 5 calls leaves %d calls and %d rows, want 5 and 5", len(m.all), len(m.visible))
	}
	if c, _ := m.selected(); c.ID != "c4" {
		t.Errorf("the reload moved the selection from c4 to %s", c.ID)
	}
	if got := strings.Count(ansi.Strip(m.View("")), "\n"); got != 1+5 {
		t.Errorf("the list shows %d rows after the reload, want 5:\n%s", got-1, ansi.Strip(m.View("")))
	}
	m, _ = m.Update(callsReloadedMsg{calls: syntheticCalls(2)})
	if len(m.visible) != 2 {
		t.Fatalf("a reload of 2 calls shows %d rows", len(m.visible))
	}
	lines := strings.Split(ansi.Strip(m.View("")), "\n")
	if len(lines) != 4 || !strings.Contains(lines[2], "c1 ") || !strings.Contains(lines[3], "c2 ") {
		t.Errorf("a reload of 2 calls shows them, and only them:\n%s", strings.Join(lines, "\n"))
	}
}

// A pending call is judged again by the filter when it finishes: one that finishes into the
// filter shows up.
func TestFinishedCallIsFilteredAgain(t *testing.T) {
	m := listModel(t, 0, 100, 20)
	m, _ = m.Update(keyPress("/"))
	for _, k := range "5xx" {
		m, _ = m.Update(keyPress(string(k)))
	}
	m, _ = m.Update(keyPress("enter"))
	pending := recorder.Summary{ID: "c1", Kind: recorder.KindHTTP, Method: "GET", URL: "https://x.test/a", Pending: true}
	m = m.upsert(pending)
	if len(m.visible) != 0 {
		t.Fatalf("a pending call does not match the filter 5xx, yet it shows")
	}
	done := pending
	done.Pending, done.Status, done.Failed = false, 503, true
	m = m.upsert(done)
	if len(m.visible) != 1 || !strings.Contains(ansi.Strip(m.View("")), "c1 ") {
		t.Fatalf("the call finished with 503 into the filter 5xx but is not shown:\n%s", ansi.Strip(m.View("")))
	}
}

// r and e on the list open the selected call and, once it has loaded, replay it or open the
// editor, as they do on the opened call.
func TestReplayAndEditFromTheList(t *testing.T) {
	env := newTestEnv(t, envOptions{})
	s := env.start(t, 120, 40)
	s.waitFor("Discovery")
	s.keys("enter")
	s.waitUntil("Discovery ok", func(scr string) bool { return stepMark(scr, "Discovery") == "✓" })
	s.keys("3", "r")
	s.waitFor("Call c1 · discovery", "Replay: c1 → c2", "c1 resent as c2: 200 → 200")
	s.keys("esc", "esc")
	s.waitFor("Calls  2 recorded")
	s.keys("g", "e")
	s.waitFor("Edit and resend c1", "▸ method")
}
