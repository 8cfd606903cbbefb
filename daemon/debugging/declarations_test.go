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
