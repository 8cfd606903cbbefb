package views_test

import (
	"testing"
	"time"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/views"
)

func TestIndicatorCounts(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	tasks := []apispec.Task{
		{Status: apispec.TaskRunning, UpdatedAt: now},
		{Status: apispec.TaskFailed, UpdatedAt: now.Add(-time.Hour)},
		{Status: apispec.TaskFailed, UpdatedAt: now.Add(-30 * time.Hour)}, // aged out
		{Status: apispec.TaskSuccess, UpdatedAt: now},
	}
	t.Run("OKNeverSeen", func(t *testing.T) {
		if c := views.IndicatorCounts(tasks, time.Time{}, now); c.Running != 1 || c.Failed != 1 {
			t.Fatalf("%+v, want 1 running and 1 failed (the day-old one aged out)", c)
		}
	})
	t.Run("OKSeenAfterTheFailure", func(t *testing.T) {
		if c := views.IndicatorCounts(tasks, now.Add(-time.Minute), now); c.Failed != 0 || c.Running != 1 {
			t.Fatalf("%+v, want the seen failure gone and the running install kept", c)
		}
	})
	t.Run("OKFailedAfterSeen", func(t *testing.T) {
		if c := views.IndicatorCounts(tasks, now.Add(-2*time.Hour), now); c.Failed != 1 {
			t.Fatalf("%+v, want the failure after the visit counted", c)
		}
	})
}

func TestHeader(t *testing.T) {
	ch := chrome(store.RoleAdmin)
	t.Run("OKInstallerHasIndicatorAndMenuButton", func(t *testing.T) {
		doc := MustRender(t, views.PluginsPage(ch, views.PluginsData{}))
		if byID(doc, "task-indicator").Length() != 1 {
			t.Fatal("an admin has no task indicator")
		}
		btn := byID(doc, "nav-toggle")
		if btn.AttrOr("aria-controls", "") != "main-nav" || byID(doc, "main-nav").AttrOr("id", "") != "main-nav" {
			t.Fatal("the menu button does not control the nav")
		}
		if btn.AttrOr("aria-expanded", "") != "false" || btn.AttrOr("aria-label", "") == "" {
			t.Fatal("the menu button has no state or name")
		}
	})
	t.Run("OKMemberHasNoTaskBadges", func(t *testing.T) {
		doc := MustRender(t, views.PluginsPage(chrome(store.RoleMember), views.PluginsData{}))
		if byID(doc, "task-indicator").Length() != 0 {
			t.Fatal("a member who may not install gets the task indicator")
		}
	})
	t.Run("OKMemberWhoMayInstall", func(t *testing.T) {
		m := chrome(store.RoleMember)
		m.Permissions = store.Permissions{Install: store.PermEveryone}
		if byID(MustRender(t, views.PluginsPage(m, views.PluginsData{})), "task-indicator").Length() != 1 {
			t.Fatal("a member allowed to install has no task indicator")
		}
	})
}

func TestPreviewVersionLabels(t *testing.T) {
	manifest := func(v string) *plugboard.Manifest {
		return &plugboard.Manifest{Version: v, Author: "plugboard", Name: "pytools", Type: "plugin"}
	}
	installed := &apispec.Installation{PluginID: "plugboard/pytools", Version: "0.0.2", PluginUniqueIdentifier: "plugboard/pytools:0.0.2@aaaa"}
	for _, c := range []struct {
		name, version, uid, button, badge string
	}{
		{"Upgrade", "0.0.3", "plugboard/pytools:0.0.3@bbbb", "Upgrade to v0.0.3", "upgrade from v0.0.2"},
		{"Downgrade", "0.0.1", "plugboard/pytools:0.0.1@cccc", "Downgrade to v0.0.1", "downgrade from v0.0.2"},
		{"SameVersionOtherCode", "0.0.2", "plugboard/pytools:0.0.2@dddd", "Replace v0.0.2", ""},
	} {
		t.Run("OK"+c.name, func(t *testing.T) {
			p := views.Preview{Upload: &apispec.UploadResult{UniqueIdentifier: c.uid, Manifest: manifest(c.version)}, Installed: installed}
			doc := MustRender(t, views.InstallPreview(chrome(store.RoleAdmin), p))
			if got := byID(doc, "install-submit").Text(); got != c.button {
				t.Errorf("button %q, want %q", got, c.button)
			}
			if got := byID(doc, "preview-upgrade").Text(); got != c.badge {
				t.Errorf("badge %q, want %q", got, c.badge)
			}
		})
	}
	t.Run("OKSameIsNotOffered", func(t *testing.T) {
		p := views.Preview{Upload: &apispec.UploadResult{UniqueIdentifier: installed.PluginUniqueIdentifier, Manifest: manifest("0.0.2")}, Installed: installed}
		doc := MustRender(t, views.InstallPreview(chrome(store.RoleAdmin), p))
		if byID(doc, "install-submit").Length() != 0 || byID(doc, "preview-same").Length() != 1 {
			t.Fatal("the installed version is offered for install")
		}
	})
}

func TestSecretInputs(t *testing.T) {
	f := views.NewForm()
	f.Values["api_key"], f.Values["token"] = "sk-1…abcd", "ghp_…wxyz"
	ext := MustRender(t, views.ExtensionsPage(chrome(store.RoleAdmin), nil, f, views.Allowlist{Form: views.NewForm()}))
	gh := MustRender(t, views.GitHubPageView(chrome(store.RoleAdmin), views.GitHubPage{Settings: f}))
	for name, in := range map[string]string{"extension key": byID(ext, "input-api_key").AttrOr("type", "") + " " + byID(ext, "input-api_key").AttrOr("autocomplete", ""),
		"GitHub token": byID(gh, "input-token").AttrOr("type", "") + " " + byID(gh, "input-token").AttrOr("autocomplete", "")} {
		if in != "password off" {
			t.Errorf("%s input is %q, want a password input with autocomplete off", name, in)
		}
	}
}
