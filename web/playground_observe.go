package web

import (
	"encoding/json"
	"strings"

	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/protocol"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/views"
)

// Sentences an agent's model reads in place of links and images (Dify's
// ToolEngine._convert_tool_response_to_str).
const (
	linkSentence  = "result link: %s. please tell user to check it."
	imageSentence = "image has been created and sent to user already, you do not need to create it, just tell the user to check it now."
)

// observation is the text an agent's model would receive for the run's
// messages: text concatenated, links and images as short sentences, json
// appended. Variables, logs and errors are not part of it.
func observation(evs []store.RunEvent) string {
	var b strings.Builder
	for _, ev := range evs {
		v := eventView(ev)
		switch ev.Type {
		case protocol.MessageText:
			b.WriteString(v.Text)
		case protocol.MessageLink, "binary_link":
			b.WriteString(strings.Replace(linkSentence, "%s", v.Link, 1))
		case protocol.MessageImage, "image_link":
			b.WriteString(imageSentence)
		case protocol.MessageBlob:
			if v.IsImage() {
				b.WriteString(imageSentence)
			} else {
				b.WriteString(strings.Replace(linkSentence, "%s", orText(v.Filename, "a file"), 1))
			}
		case protocol.MessageJSON:
			var p eventPayload
			json.Unmarshal(ev.Payload, &p)
			j, _ := json.Marshal(p.JSON)
			b.Write(j)
		}
	}
	return b.String()
}

func orText(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// curlCommand is the daemon API call equivalent to the run, credentials
// left out (and secret parameters still redacted).
func curlCommand(daemonURL string, r *store.Run) string {
	if daemonURL == "" {
		daemonURL = "$PLUGBOARD_DAEMON_URL"
	}
	body, _ := json.MarshalIndent(apispec.InvokeRequest[apispec.InvokeToolData]{UserID: r.Username,
		Data: apispec.InvokeToolData{Provider: r.Provider, Tool: r.Tool, ToolParameters: r.Params, Credentials: map[string]any{}}}, "", "  ")
	return "curl -N -X POST '" + daemonURL + "/plugin/default/dispatch/tool/invoke' \\\n" +
		"  -H \"X-Api-Key: $PLUGBOARD_DAEMON_KEY\" \\\n" +
		"  -H 'X-Plugin-ID: " + shellQuoted(r.PluginID) + "' \\\n" +
		"  -H 'Content-Type: application/json' \\\n" +
		"  --data-binary '" + shellQuoted(string(body)) + "'"
}

// shellQuoted escapes s for use inside single quotes.
func shellQuoted(s string) string { return strings.ReplaceAll(s, "'", `'\''`) }

// runPageData gathers what the run page shows.
func (s *Server) runPageData(r *store.Run, evs []store.RunEvent) views.RunPageData {
	params, _ := json.MarshalIndent(r.Params, "", "  ")
	d := views.RunPageData{Run: r, Params: string(params), Curl: curlCommand(s.cfg.DaemonURL, r)}
	if !r.Running() {
		d.Observation = observation(evs)
	}
	return d
}
