package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/plugboard/plugboard/store"
)

// mustSeedRuns records n finished runs of user (alternating tools), the
// newest last, without invoking anything.
func mustSeedRuns(tb testing.TB, a *CredApp, userID int64, username string, n int) {
	tb.Helper()
	for i := range n {
		tool := []string{"stream_text", "render_png"}[i%2]
		r := &store.Run{UserID: userID, Username: username, PluginID: "plugboard/gotools", Provider: "gotools", Tool: tool,
			Params: map[string]any{"text": username + " note " + strconv.Itoa(i)}}
		if err := a.Store.CreateRun(context.Background(), r); err != nil {
			tb.Fatal(err)
		}
		status := store.RunDone
		if i%5 == 4 {
			status = store.RunFailed
		}
		if err := a.Store.FinishRun(context.Background(), r.ID, status, ""); err != nil {
			tb.Fatal(err)
		}
	}
}

func userID(tb testing.TB, a *CredApp, name string) int64 {
	tb.Helper()
	u, err := a.Store.FindUserByUsername(context.Background(), name)
	if err != nil {
		tb.Fatal(err)
	}
	return u.ID
}

func TestRunHistory(t *testing.T) {
	a := MustCredApp(t)
	b := a.admin(t)
	a.MustUser(t, "mo", store.RoleMember)
	mustSeedRuns(t, a, userID(t, a, "alice"), "alice", 30)
	mustSeedRuns(t, a, userID(t, a, "mo"), "mo", 4)
	m := a.NewBrowser(t)
	m.MustLogin("mo")

	t.Run("OKListFirstPage", func(t *testing.T) {
		p := b.Get("/playground/runs")
		wantStatus(t, p, http.StatusOK)
		rows := p.TestID("run-row")
		if rows.Length() != 25 || p.TestID("runs-summary").Text() != "Runs 1–25 of 34" {
			t.Fatalf("%d rows, summary %q", rows.Length(), p.TestID("runs-summary").Text())
		}
		row := rows.First()
		for _, id := range []string{"run-link", "run-status-badge", "run-started", "run-duration", "run-who"} {
			if strings.TrimSpace(row.Find(`[data-testid="`+id+`"]`).Text()) == "" {
				t.Errorf("a row has no %s", id)
			}
		}
		if got := row.Find(`[data-testid=run-duration]`).Text(); !strings.HasSuffix(got, " ms") && !strings.HasSuffix(got, " s") {
			t.Errorf("duration %q", got)
		}
		if p.TestID("runs-newer").Length() != 0 || p.TestID("runs-older").AttrOr("href", "") != "/playground/runs?page=2" {
			t.Errorf("pager: newer %d, older %q", p.TestID("runs-newer").Length(), p.TestID("runs-older").AttrOr("href", ""))
		}
		if p.TestID("runs-user").Find("option").Length() != 3 {
			t.Error("an admin cannot filter by each of the two users")
		}
	})
	t.Run("OKSecondPage", func(t *testing.T) {
		p := b.Get("/playground/runs?page=2")
		if p.TestID("run-row").Length() != 9 || p.TestID("runs-older").Length() != 0 || p.TestID("runs-newer").AttrOr("href", "") != "/playground/runs" {
			t.Fatalf("page 2: %d rows, summary %q", p.TestID("run-row").Length(), p.TestID("runs-summary").Text())
		}
	})
	t.Run("OKFilters", func(t *testing.T) {
		mo := strconv.FormatInt(userID(t, a, "mo"), 10)
		alice := strconv.FormatInt(userID(t, a, "alice"), 10)
		for query, want := range map[string]int{
			"tool=" + url.QueryEscape("plugboard/gotools:gotools:render_png"): 17,
			"status=failed": 6,
			"user=" + mo:    4,
			"q=note+29":     1,
			"q=mo+note":     4,
			"status=failed&user=" + alice + "&tool=" + url.QueryEscape("plugboard/gotools:gotools:stream_text"): 3,
		} {
			p := b.Get("/playground/runs?" + query)
			wantStatus(t, p, http.StatusOK)
			if got := p.TestID("run-row").Length(); got != want {
				t.Errorf("%s: %d rows, want %d", query, got, want)
			}
			if p.TestID("runs-clear").Length() != 1 {
				t.Errorf("%s: no way to clear the filter", query)
			}
		}
		p := b.Get("/playground/runs?status=failed&q=alice")
		if p.TestID("runs-status").Find("option[selected]").AttrOr("value", "") != "failed" || p.TestID("runs-search").AttrOr("value", "") != "alice" {
			t.Error("the filter form does not show the filter")
		}
		if href := b.Get("/playground/runs?q=note").TestID("runs-older").AttrOr("href", ""); href != "/playground/runs?page=2&q=note" {
			t.Errorf("the next page drops the filter: %q", href)
		}
	})
	t.Run("OKNoMatch", func(t *testing.T) {
		p := b.Get("/playground/runs?q=nothing-like-this")
		if p.TestID("run-row").Length() != 0 || !strings.Contains(p.TestID("runs-empty").Text(), "No runs match") {
			t.Fatalf("empty result:\n%.400s", p.TestID("runs-empty").Text())
		}
	})
	t.Run("OKMemberSeesOwnOnly", func(t *testing.T) {
		alice := strconv.FormatInt(userID(t, a, "alice"), 10)
		for _, path := range []string{"/playground/runs", "/playground/runs?user=" + alice, "/playground/runs?q=alice"} {
			p := m.Get(path)
			wantStatus(t, p, http.StatusOK)
			p.TestID("run-who").Each(func(_ int, s *goquery.Selection) {
				if s.Text() != "mo" {
					t.Errorf("%s: a member sees %s's run", path, s.Text())
				}
			})
			if p.TestID("runs-user").Length() != 0 {
				t.Errorf("%s: a member is offered a user filter", path)
			}
		}
		if got := m.Get("/playground/runs").TestID("run-row").Length(); got != 4 {
			t.Errorf("mo sees %d runs, want 4", got)
		}
	})
	t.Run("ErrBadFilter", func(t *testing.T) {
		for _, q := range []string{"status=exploded", "page=0", "page=x", "user=bob"} {
			p := b.Get("/playground/runs?" + q)
			if p.StatusCode != http.StatusBadRequest && p.StatusCode != http.StatusUnprocessableEntity {
				t.Errorf("%s: status %d", q, p.StatusCode)
			}
		}
	})
}
