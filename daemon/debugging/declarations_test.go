package debugging_test

import (
	"encoding/base64"
	"io"
	"strings"
	"testing"

	"github.com/plugboard/plugboard/daemon/apispec"
)

// botManifest is an extension plugin's manifest as Dify's SDK sends it.
const botManifest = `{"version":"0.0.2","type":"plugin","author":"acme","name":"chat_bot",` +
	`"label":{"en_US":"Chat bot"},"description":{"en_US":"Answers chats"},"icon":"icon.svg",` +
	`"created_at":"2025-06-01T00:00:00Z","resource":{"memory":268435456,"permission":{"endpoint":{"enabled":true}}},` +
	`"plugins":{"endpoints":["group/chat_bot.yaml"]},"meta":{"version":"0.0.1","arch":["amd64"],` +
	`"runner":{"language":"python","version":"3.12","entrypoint":"main"}},"tags":[]}`

// botGroup is its endpoint group, endpoints inline, as the SDK dumps it.
func botGroup(path string) string {
	return `[{"settings":[{"name":"bot_token","type":"secret-input","required":true,"label":{"en_US":"Bot token"}}],` +
		`"endpoints":[{"path":"` + path + `","method":"POST","hidden":false,"extra":{"python":{"source":"endpoints/events.py"}}}]}]`
}

// register sends a whole registration of the bot on a raw connection.
func register(t *testing.T, d *testDaemon, group string) io.Reader {
	c := d.MustDial(t)
	icon := base64.StdEncoding.EncodeToString([]byte("<svg/>"))
	c.Write([]byte(`{"type":"handshake","data":{"key":"` + d.MustKey(t) + `"}}` + "\n" +
		`{"type":"manifest_declaration","data":` + botManifest + `}` + "\n" +
		`{"type":"tool_declaration","data":[]}` + "\n" +
		`{"type":"endpoint_declaration","data":` + group + `}` + "\n" +
		`{"type":"asset_chunk","data":{"filename":"icon.svg","data":"` + icon + `","end":true}}` + "\n" +
		`{"type":"end","data":{}}` + "\n"))
	return c
}

func TestRemoteEndpoints(t *testing.T) {
	d := MustDaemon(t, t.TempDir(), "127.0.0.1:0")
	t.Run("OK", func(t *testing.T) {
		register(t, d, botGroup("/events"))
		var in apispec.Installation
		d.waitFor(t, "chat_bot listed", func(list []apispec.Installation) bool {
			for _, x := range list {
				if x.PluginID == "acme/chat_bot" {
					in = x
					return true
				}
			}
			return false
		})
		e := in.Declaration.Endpoint
		if in.RuntimeType != "remote" || in.Category != "extension" || e == nil || len(e.Endpoints) != 1 || e.Endpoints[0].Path != "/events" || len(e.Settings) != 1 {
			t.Fatalf("installation = %+v, endpoint = %+v", in, e)
		}
	})
	t.Run("ErrBadEndpoint", func(t *testing.T) {
		got, _ := io.ReadAll(register(t, d, botGroup("events")))
		if want := `registration failed: endpoints/0.json: path (line 1): "events" must start with /`; !strings.HasPrefix(string(got), want) {
			t.Fatalf("reply %q, want %q", got, want)
		}
	})
}

// llmManifest is a model plugin's manifest as Dify's SDK sends it.
const llmManifest = `{"version":"0.0.1","type":"plugin","author":"acme","name":"llm_remote",` +
	`"label":{"en_US":"Remote LLM"},"description":{"en_US":"Chats"},"icon":"icon.svg",` +
	`"created_at":"2025-06-01T00:00:00Z","resource":{"memory":268435456},` +
	`"plugins":{"models":["provider/acme.yaml"]},"meta":{"version":"0.0.1","arch":["amd64"],` +
	`"runner":{"language":"python","version":"3.12","entrypoint":"main"}},"tags":[]}`

// llmProvider is its provider with one model inline, as the SDK dumps it.
func llmProvider(modelType string) string {
	return `[{"provider":"acme","label":{"en_US":"Acme"},"icon_small":{"en_US":"icon.svg"},` +
		`"supported_model_types":["llm"],"configurate_methods":["predefined-model"],` +
		`"provider_credential_schema":{"credential_form_schemas":[{"variable":"api_key","label":{"en_US":"API Key"},"type":"secret-input","required":true}]},` +
		`"models":[{"model":"acme-chat","label":{"en_US":"Acme Chat"},"model_type":"` + modelType + `",` +
		`"model_properties":{"mode":"chat","context_size":8192},"parameter_rules":[{"name":"temperature","use_template":"temperature"}],` +
		`"pricing":{"input":"0.50","output":"1.5","unit":"0.000001","currency":"USD"}}],` +
		`"extra":{"python":{"provider_source":"provider/acme.py","model_sources":["models/llm/llm.py"]}}}]`
}

// registerModel sends a whole registration of the model plugin.
func registerModel(t *testing.T, d *testDaemon, provider string) io.Reader {
	c := d.MustDial(t)
	icon := base64.StdEncoding.EncodeToString([]byte("<svg/>"))
	c.Write([]byte(`{"type":"handshake","data":{"key":"` + d.MustKey(t) + `"}}` + "\n" +
		`{"type":"manifest_declaration","data":` + llmManifest + `}` + "\n" +
		`{"type":"tool_declaration","data":[]}` + "\n" +
		`{"type":"model_declaration","data":` + provider + `}` + "\n" +
		`{"type":"asset_chunk","data":{"filename":"icon.svg","data":"` + icon + `","end":true}}` + "\n" +
		`{"type":"end","data":{}}` + "\n"))
	return c
}

func TestRemoteModels(t *testing.T) {
	d := MustDaemon(t, t.TempDir(), "127.0.0.1:0")
	t.Run("OK", func(t *testing.T) {
		registerModel(t, d, llmProvider("llm"))
		var in apispec.Installation
		d.waitFor(t, "llm_remote listed", func(list []apispec.Installation) bool {
			for _, x := range list {
				if x.PluginID == "acme/llm_remote" {
					in = x
					return true
				}
			}
			return false
		})
		m := in.Declaration.Model
		if in.RuntimeType != "remote" || in.Category != "model" || m == nil || len(m.Models) != 1 {
			t.Fatalf("installation = %+v, model = %+v", in, m)
		}
		r := m.Models[0].ParameterRules[0]
		if m.Provider != "acme" || r.Type != "float" || *r.Max != 1 || m.Models[0].Pricing.Input != "0.5" {
			t.Errorf("provider = %+v, rule = %+v", m, r)
		}
	})
	t.Run("ErrBadModel", func(t *testing.T) {
		got, _ := io.ReadAll(registerModel(t, d, llmProvider("chat")))
		if want := `registration failed: provider/acme.yaml: models[0].model_type (line 1): unknown model type "chat"`; !strings.HasPrefix(string(got), want) {
			t.Fatalf("reply %q, want %q", got, want)
		}
	})
}
