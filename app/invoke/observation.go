package invoke

import (
	"encoding/json"
	"strings"

	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/daemon/protocol"
	"github.com/plugboard/plugboard/store"
)

// Sentences an agent's model reads in place of links and images (Dify's
// ToolEngine._convert_tool_response_to_str).
const (
	linkSentence  = "result link: %s. please tell user to check it."
	imageSentence = "image has been created and sent to user already, you do not need to create it, just tell the user to check it now."
)

// Observation is the text an agent's model would receive for a run's
// stored messages: text concatenated, links and images as short
// sentences, json appended. Variables, logs and errors are not part of
// it; a payload that does not decode counts as far as it does.
func Observation(evs []store.RunEvent) string {
	var b strings.Builder
	for _, ev := range evs {
		var p Payload
		_ = json.Unmarshal(ev.Payload, &p) // what does not decode is left out; the event stream logs it
		switch ev.Type {
		case protocol.MessageText:
			b.WriteString(p.Text)
		case protocol.MessageLink, "binary_link":
			b.WriteString(strings.Replace(linkSentence, "%s", p.Link, 1))
		case protocol.MessageImage, "image_link":
			b.WriteString(imageSentence)
		case protocol.MessageBlob:
			if IsImage(p.MIME) {
				b.WriteString(imageSentence)
			} else {
				b.WriteString(strings.Replace(linkSentence, "%s", orText(p.Filename, "a file"), 1))
			}
		case protocol.MessageJSON:
			j, _ := json.Marshal(p.JSON) // decoded from JSON: encodes again
			b.Write(j)
		}
	}
	return b.String()
}

// ObservationOf is the Observation of messages as a call handed them
// over, before (or without) reading the run's stored events back.
func ObservationOf(msgs []*client.Message) string {
	evs := make([]store.RunEvent, len(msgs))
	for i, m := range msgs {
		evs[i] = *eventOf("", m)
	}
	return Observation(evs)
}

// IsImage reports whether a blob of the media type is an image a page (and
// so a user) is shown.
func IsImage(mime string) bool {
	switch mime {
	case "image/png", "image/jpeg", "image/gif", "image/webp":
		return true
	}
	return false
}

func orText(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
