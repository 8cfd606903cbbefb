package views_test

import (
	"strings"
	"testing"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/views"
)

func TestPluginDetailPython(t *testing.T) {
	detail := func(py *apispec.Interpreter) views.PluginDetail {
		return views.PluginDetail{Plugin: apispec.Installation{
			PluginID: "plugboard/pytools", Version: "0.0.1",
			Declaration: &plugboard.Manifest{Label: plugboard.I18n{"en_US": "Python tools"}},
			Runtime:     &apispec.RuntimeStatus{State: apispec.StateRunning, Python: py},
		}}
	}
	t.Run("OKShown", func(t *testing.T) {
		py := &apispec.Interpreter{Path: "/root/.pyenv/versions/3.12.1/bin/python3", Version: "3.12.1", Source: "pyenv"}
		doc := MustRender(t, views.PluginDetailPage(chrome(store.RoleAdmin), detail(py)))
		dd := byID(doc, "detail-python")
		if v, _ := dd.Attr("data-version"); v != "3.12.1" || !strings.HasPrefix(strings.TrimSpace(dd.Text()), "3.12.1") {
			t.Errorf("python row = %q (version %q), want 3.12.1", dd.Text(), v)
		}
		if got := byID(doc, "detail-python-path").Text(); got != py.Path {
			t.Errorf("python path = %q, want %q", got, py.Path)
		}
	})
	t.Run("OKBinaryHasNone", func(t *testing.T) {
		doc := MustRender(t, views.PluginDetailPage(chrome(store.RoleAdmin), detail(nil)))
		if byID(doc, "detail-python").Length() != 0 {
			t.Error("a plugin without an interpreter shows a Python row")
		}
	})
}

func TestTaskFailedLogsLink(t *testing.T) {
	task := &apispec.Task{ID: "t1", Status: apispec.TaskFailed, Plugins: []apispec.TaskPlugin{{
		PluginID: "plugboard/pytools", Status: apispec.TaskFailed, Stage: apispec.StagePreparing,
		Message: "Dependency missingdep==1.0 could not be installed: …",
	}}}
	doc := MustRender(t, views.TaskProgress(chrome(store.RoleAdmin), task))
	link := byID(doc, "task-logs")
	if href, _ := link.Attr("hx-get"); href != "/plugins/plugboard/pytools/logs" {
		t.Errorf("failed task's log link = %q, want the plugin's logs fragment", href)
	}
}

// An MCP server is no package: its overview names its source but shows no
// signature, declared memory or call-back permissions, which a plugin's
// does.
func TestPluginDetailMCPServer(t *testing.T) {
	detail := func(source string) views.PluginDetail {
		return views.PluginDetail{Plugin: apispec.Installation{
			PluginID: "mcp/echo", Version: "0.0.1", Source: source,
			Declaration: &plugboard.Manifest{Label: plugboard.I18n{"en_US": "echo"}},
			Runtime:     &apispec.RuntimeStatus{State: apispec.StateRunning},
		}}
	}
	doc := MustRender(t, views.PluginDetailPage(chrome(store.RoleAdmin), detail("mcp")))
	if got := strings.TrimSpace(byID(doc, "detail-source").Text()); got != "MCP server" {
		t.Errorf("source %q", got)
	}
	if byID(doc, "detail-permissions").Length() != 0 || byID(doc, "detail-memory-asked").Length() != 0 || strings.Contains(doc.Text(), "unsigned") {
		t.Error("an MCP server's overview shows a package's signature, memory or permissions")
	}
	doc = MustRender(t, views.PluginDetailPage(chrome(store.RoleAdmin), detail("upload")))
	if byID(doc, "detail-permissions").Length() != 1 || !strings.Contains(doc.Text(), "unsigned") {
		t.Error("an uploaded plugin's overview lost its signature or permissions")
	}
}
