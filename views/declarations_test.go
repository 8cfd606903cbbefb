package views_test

import (
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/views"
)

// extensionManifest declares one of each kind of non-tool declaration.
func extensionManifest() *plugboard.Manifest {
	label := func(s string) plugboard.I18n { return plugboard.I18n{"en_US": s} }
	return &plugboard.Manifest{
		Author: "acme", Name: "bundle", Version: "0.0.3", Label: label("Bundle"),
		Plugins: plugboard.Plugins{Endpoints: []string{"group/bot.yaml"}},
		Endpoint: &plugboard.EndpointGroup{
			Settings:  []plugboard.CredentialField{{Name: "bot_token", Type: "secret-input", Label: label("Bot token")}},
			Endpoints: []plugboard.Endpoint{{Path: "/events", Method: "POST"}, {Path: "/health", Method: "GET", Hidden: true}},
		},
		AgentStrategy: &plugboard.AgentStrategyProvider{Strategies: []plugboard.AgentStrategy{{
			Identity: plugboard.ToolIdentity{Name: "react", Label: label("ReAct")}, Description: label("Reasons and acts"),
			Parameters: []plugboard.Input{{Name: "model", Type: "model-selector", Required: true}},
		}}},
		Datasource: &plugboard.DatasourceProvider{ProviderType: "online_document", Datasources: []plugboard.Datasource{{
			Identity: plugboard.ToolIdentity{Name: "pages", Label: label("Pages")}, Description: label("Pages of a workspace"),
		}}},
		Trigger: &plugboard.TriggerProvider{Triggers: []plugboard.Trigger{{
			Identity:    plugboard.ToolIdentity{Name: "push", Label: label("Push")},
			Description: map[string]any{"human": map[string]any{"en_US": "Commits were pushed"}},
		}}},
	}
}

func TestInstallPreviewWarnings(t *testing.T) {
	up := &apispec.UploadResult{UniqueIdentifier: "acme/bundle:0.0.3@" + strings.Repeat("a", 64), Manifest: extensionManifest(),
		Warnings: []plugboard.Warning{
			{File: "tools/search.yaml", Field: "parameters[1].default", Line: 22, Msg: `default "none" is not one of the options ["d" "w"]`},
			{File: "tools/list.yaml", Field: "parameters[0].label.zh_Hant", Line: 18, Msg: "not a language Dify reads"},
		}}
	doc := MustRender(t, views.InstallPreview(chrome(store.RoleAdmin), views.Preview{Upload: up}))
	t.Run("Warnings", func(t *testing.T) {
		ws := byID(doc, "preview-warning")
		if ws.Length() != 2 || !strings.Contains(byID(doc, "preview-warnings").Text(), "2 warnings") {
			t.Fatalf("warnings: %q", byID(doc, "preview-warnings").Text())
		}
		first := ws.First()
		if first.AttrOr("data-file", "") != "tools/search.yaml" || first.AttrOr("data-field", "") != "parameters[1].default" || first.AttrOr("data-line", "") != "22" {
			t.Errorf("first warning attributes: %v", first.Nodes[0].Attr)
		}
		if !strings.Contains(first.Text(), "tools/search.yaml: parameters[1].default, line 22") || !strings.Contains(first.Text(), `default "none" is not one of the options`) {
			t.Errorf("first warning: %q", first.Text())
		}
		if byID(doc, "install-submit").Length() != 1 {
			t.Error("a package with warnings has no install button")
		}
	})
	t.Run("Declarations", func(t *testing.T) {
		MustShowExtensions(t, doc, "preview")
	})
	t.Run("NoWarnings", func(t *testing.T) {
		clean := *up
		clean.Warnings = nil
		clean.Manifest = &plugboard.Manifest{Name: "plain", Label: plugboard.I18n{"en_US": "Plain"}}
		doc := MustRender(t, views.InstallPreview(chrome(store.RoleAdmin), views.Preview{Upload: &clean}))
		if byID(doc, "preview-warnings").Length() != 0 || byID(doc, "preview-extensions").Length() != 0 {
			t.Error("a clean tool package shows warnings or declarations")
		}
	})
}

func TestPluginDetailDeclarations(t *testing.T) {
	p := apispec.Installation{PluginID: "acme/bundle", Version: "0.0.3", Declaration: extensionManifest()}
	doc := MustRender(t, views.PluginDetailPage(chrome(store.RoleAdmin), views.PluginDetail{Plugin: p}))
	if byID(doc, "detail-declarations").Length() != 1 {
		t.Fatal("no declarations card")
	}
	MustShowExtensions(t, doc, "detail")
}

// MustShowExtensions checks the four kinds of declaration and the notice
// that they are not dispatched, under data-testids starting with prefix.
func MustShowExtensions(tb testing.TB, doc *goquery.Document, prefix string) {
	tb.Helper()
	if !strings.Contains(byID(doc, prefix+"-not-dispatched").Text(), "does not run them yet") {
		tb.Errorf("no not-dispatched notice: %q", byID(doc, prefix+"-not-dispatched").Text())
	}
	eps := byID(doc, prefix+"-endpoint")
	if eps.Length() != 2 || eps.First().AttrOr("data-method", "") != "POST" || eps.First().AttrOr("data-path", "") != "/events" ||
		!strings.Contains(eps.Last().Text(), "hidden") {
		tb.Errorf("endpoints: %q", byID(doc, prefix+"-endpoints").Text())
	}
	if !strings.Contains(byID(doc, prefix+"-endpoint-settings").Text(), "Bot token (secret-input)") {
		tb.Errorf("endpoint settings: %q", byID(doc, prefix+"-endpoint-settings").Text())
	}
	for kind, name := range map[string]string{"strategy": "react", "datasource": "pages", "trigger": "push"} {
		sel := doc.Find(`[data-testid="` + prefix + "-" + kind + `"][data-` + kind + `="` + name + `"]`)
		if sel.Length() != 1 {
			tb.Errorf("no %s %s", kind, name)
		}
	}
	if !strings.Contains(byID(doc, prefix+"-strategy").Text(), "model (model-selector)*") ||
		!strings.Contains(byID(doc, prefix+"-trigger").Text(), "Commits were pushed") {
		tb.Errorf("strategy %q, trigger %q", byID(doc, prefix+"-strategy").Text(), byID(doc, prefix+"-trigger").Text())
	}
}
