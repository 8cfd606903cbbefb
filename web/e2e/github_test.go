package e2e_test

import (
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/plugboard/plugboard/app/github/githubtest"
)

// TestGitHub installs pytools from a fake GitHub release in the browser
// and checks it for updates.
func TestGitHub(t *testing.T) {
	skipWithoutChromium(t)
	pkg, err := os.ReadFile(MustPackPytools(t, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	gh := githubtest.New()
	gh.AddRelease("plugboard/pytools", githubtest.Release{Tag: "v0.0.1", Name: "First release", Assets: []githubtest.Asset{
		{Name: "pytools-0.0.1.difypkg", Data: pkg},
		{Name: "checksums.txt", Data: []byte("x")},
	}})
	gh.AddRepo("plugboard/empty")
	api := httptest.NewServer(gh)
	t.Cleanup(api.Close)

	srv := MustServe(t, WithGitHub(api.URL))
	b := MustBrowser(t, srv)
	b.CreateOwner()

	t.Run("ErrNoReleases", func(t *testing.T) {
		b.Open("/github", "github-page")
		b.Fill(map[string]string{"github-repo": "plugboard/empty"})
		b.Do("look up", chromedp.Click(tid("github-fetch")), chromedp.WaitVisible(tid("github-error")))
		if got := b.Text("github-error"); !strings.Contains(got, "plugboard/empty has no releases") {
			t.Fatalf("error %q", got)
		}
		b.Shoot("github-no-releases")
	})
	t.Run("OKInstall", func(t *testing.T) {
		b.Open("/github", "github-page")
		b.Shoot("github-empty")
		b.Fill(map[string]string{"github-repo": "https://github.com/plugboard/pytools.git"})
		b.Do("list releases", chromedp.Click(tid("github-fetch")), chromedp.WaitVisible(tid("github-release")))
		if n := b.Count("github-asset"); n != 1 {
			t.Fatalf("%d package assets listed, want 1 (checksums.txt is not a package)", n)
		}
		b.Shoot("github-releases")
		b.Do("preview", chromedp.Click(tid("github-asset")), chromedp.WaitVisible(tid("install-preview")))
		if got := b.Text("preview-label"); got != "Python Tools" {
			t.Fatalf("preview label %q", got)
		}
		b.Shoot("github-preview")
		b.Do("install", chromedp.Click(tid("install-submit")), chromedp.WaitVisible(`[data-testid="task-progress"][data-status="success"]`))
		b.Open("/", "plugins-page")
		b.Do("card running", chromedp.WaitVisible(runningCard("plugboard/pytools")))
		if got := b.Text("plugin-source"); got != "GitHub" {
			t.Fatalf("source %q, want GitHub", got)
		}
	})
	t.Run("OKCheckUpdates", func(t *testing.T) {
		b.Open("/plugins/plugboard/pytools", "github-updates")
		if got := b.Text("github-source"); got != "plugboard/pytools @ v0.0.1" {
			t.Fatalf("source %q", got)
		}
		gh.AddRelease("plugboard/pytools", githubtest.Release{Tag: "v0.0.2", Assets: []githubtest.Asset{{Name: "pytools-0.0.2.difypkg", Data: pkg}}})
		b.Do("check", chromedp.Click(tid("github-check-updates")), chromedp.WaitVisible(tid("github-update")))
		if got := Eval[string](b, `document.querySelector('[data-testid="github-update"]').dataset.tag`); got != "v0.0.2" {
			t.Fatalf("update %q, want v0.0.2", got)
		}
		b.Shoot("github-updates")
	})
}
