package views_test

import (
	"strings"
	"testing"

	"github.com/plugboard/plugboard/app/github"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/views"
)

func TestGitHubReleasesList(t *testing.T) {
	r := views.GitHubReleases{Repo: "plugboard/pytools", Releases: []github.Release{
		{Tag: "v2", Prerelease: true, Assets: []github.Asset{{Name: "notes.txt"}, {Name: "pytools.difypkg", Size: 2048}}},
		{Tag: "v1", Assets: []github.Asset{{Name: "src.tar.gz"}}},
	}}
	t.Run("OK", func(t *testing.T) {
		doc := MustRender(t, views.GitHubReleasesList(chrome(store.RoleAdmin), r))
		if n := byID(doc, "github-release").Length(); n != 2 {
			t.Fatalf("%d releases, want 2", n)
		}
		a := byID(doc, "github-asset")
		if a.Length() != 1 || a.AttrOr("data-asset", "") != "pytools.difypkg" || a.AttrOr("data-tag", "") != "v2" {
			t.Fatalf("assets: %d %q", a.Length(), a.Text())
		}
		form := a.Closest("form")
		if form.Find(`input[name=repo]`).AttrOr("value", "") != "plugboard/pytools" || form.Find(`input[name=_csrf]`).AttrOr("value", "") != "tok" {
			t.Fatal("the asset form lacks the repo or the CSRF token")
		}
		if byID(doc, "github-no-asset").Length() != 1 {
			t.Fatal("the release without a package does not say so")
		}
	})
	t.Run("ErrShown", func(t *testing.T) {
		doc := MustRender(t, views.GitHubReleasesList(chrome(store.RoleAdmin), views.GitHubReleases{Error: "plugboard/x has no releases yet"}))
		if got := byID(doc, "github-error").Text(); !strings.Contains(got, "no releases") || byID(doc, "github-release").Length() != 0 {
			t.Fatalf("error %q", got)
		}
	})
}

func TestGitHubUpdatesHook(t *testing.T) {
	gh := apispec.Installation{PluginID: "plugboard/pytools", Source: "github", Meta: map[string]any{"repo": "plugboard/pytools", "version": "v1"}}
	t.Run("OK", func(t *testing.T) {
		doc := MustRender(t, views.GitHubUpdatesHook(chrome(store.RoleAdmin), gh))
		if got := byID(doc, "github-source").Text(); got != "plugboard/pytools @ v1" {
			t.Fatalf("source %q", got)
		}
		if byID(doc, "github-check-updates").AttrOr("hx-get", "") != "/github/updates/plugboard/pytools" {
			t.Fatal("no check-for-updates button")
		}
	})
	t.Run("OKHiddenForOtherSources", func(t *testing.T) {
		other := gh
		other.Source = "marketplace"
		if doc := MustRender(t, views.GitHubUpdatesHook(chrome(store.RoleAdmin), other)); byID(doc, "github-updates").Length() != 0 {
			t.Fatal("a marketplace plugin offers a GitHub update check")
		}
	})
	t.Run("OKHiddenForMembers", func(t *testing.T) {
		if doc := MustRender(t, views.GitHubUpdatesHook(chrome(store.RoleMember), gh)); byID(doc, "github-updates").Length() != 0 {
			t.Fatal("a member sees the update check")
		}
	})
}
