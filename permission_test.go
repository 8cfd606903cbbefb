package plugboard_test

import (
	"testing"

	"github.com/plugboard/plugboard"
)

func TestPermissions(t *testing.T) {
	r := plugboard.Resource{Permission: map[string]any{
		"tool":    map[string]any{"enabled": true},
		"model":   map[string]any{"enabled": true, "llm": true, "text_embedding": false, "rerank": "yes"},
		"storage": map[string]any{"enabled": true, "size": uint64(1048576)},
		"app":     true, // not an object: off
	}}
	p := r.Permissions()
	want := plugboard.Permission{Tool: true, Model: true, LLM: true, Storage: true, StorageSize: 1048576}
	if p != want {
		t.Fatalf("Permissions() = %+v, want %+v", p, want)
	}
	if err := r.CheckStorageSize(); err != nil {
		t.Fatalf("CheckStorageSize: %v", err)
	}
	for _, size := range []any{1023, uint64(1073741825), "1MB", nil} {
		r.Permission["storage"] = map[string]any{"enabled": false, "size": size}
		if err := r.CheckStorageSize(); err == nil {
			t.Errorf("size %v accepted", size)
		}
	}
	if (plugboard.Resource{}).Permissions() != (plugboard.Permission{}) {
		t.Fatal("no permission map: something allowed")
	}
}
