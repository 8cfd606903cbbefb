package views_test

import (
	"strings"
	"testing"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/views"
)

func TestPermissionCalls(t *testing.T) {
	for name, tc := range map[string]struct {
		p    plugboard.Permission
		want string
	}{
		"OKNone":            {plugboard.Permission{}, ""},
		"OKModelsNeedModel": {plugboard.Permission{LLM: true, Embed: true}, ""},
		"OKAll": {plugboard.Permission{Tool: true, Model: true, LLM: true, Embed: true, Rerank: true, TTS: true, STT: true,
			Moderate: true, Storage: true, StorageSize: 2048, Endpoint: true, App: true, Node: true},
			"LLMs|other tools|storage up to 2 KiB|text embedding models|rerank models|text-to-speech models|speech-to-text models|" +
				"moderation models|endpoints|Dify apps (not available in Plugboard)|workflow nodes (not available in Plugboard)"},
	} {
		t.Run(name, func(t *testing.T) {
			if got := strings.Join(views.PermissionCalls(tc.p), "|"); got != tc.want {
				t.Fatalf("calls %q, want %q", got, tc.want)
			}
		})
	}
}
