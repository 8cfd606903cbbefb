package plugboard

import "fmt"

// Bounds of a manifest's resource.permission.storage.size, as Dify
// validates it (bytes).
const (
	StorageSizeMin = 1024
	StorageSizeMax = 1073741824
)

// Permission is a manifest's resource.permission decoded: what the plugin
// may call back into its host for (Dify's PluginPermissionRequirement).
// The zero value allows nothing but file uploads, which Dify always allows.
type Permission struct {
	Tool     bool // tool.enabled: invoke other tools
	Model    bool // model.enabled, gating the model types below
	LLM      bool // model.llm (also summaries and structured output)
	Embed    bool // model.text_embedding
	Rerank   bool // model.rerank
	TTS      bool // model.tts
	STT      bool // model.speech2text
	Moderate bool // model.moderation
	Node     bool // node.enabled: workflow nodes
	Endpoint bool // endpoint.enabled: endpoint setup, not calls back
	App      bool // app.enabled: apps
	Storage  bool // storage.enabled: the plugin's key-value storage
	// StorageSize is storage.size, the most bytes the plugin may store; 0
	// when storage is not declared.
	StorageSize int64
}

// Permissions decodes r.Permission leniently: a switch that is missing or
// not a boolean is off.
func (r Resource) Permissions() Permission {
	on := func(group, key string) bool {
		g, _ := r.Permission[group].(map[string]any)
		v, _ := g[key].(bool)
		return v
	}
	p := Permission{
		Tool: on("tool", "enabled"), Model: on("model", "enabled"),
		LLM: on("model", "llm"), Embed: on("model", "text_embedding"), Rerank: on("model", "rerank"),
		TTS: on("model", "tts"), STT: on("model", "speech2text"), Moderate: on("model", "moderation"),
		Node: on("node", "enabled"), Endpoint: on("endpoint", "enabled"), App: on("app", "enabled"),
		Storage: on("storage", "enabled"),
	}
	if g, ok := r.Permission["storage"].(map[string]any); ok {
		p.StorageSize, _ = number(g["size"])
	}
	return p
}

// CheckStorageSize reports a storage.size outside Dify's bounds, when the
// manifest declares storage at all (Dify validates it whether or not
// storage is enabled).
func (r Resource) CheckStorageSize() error {
	g, ok := r.Permission["storage"].(map[string]any)
	if !ok {
		return nil
	}
	n, ok := number(g["size"])
	if !ok || n < StorageSizeMin || n > StorageSizeMax {
		return fmt.Errorf("must be a number of bytes from %d to %d (1 KiB to 1 GiB), not %v", StorageSizeMin, StorageSizeMax, g["size"])
	}
	return nil
}

// number reads an integer a YAML or JSON decoder produced.
func number(v any) (int64, bool) {
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int64:
		return n, true
	case uint64:
		return int64(min(n, 1<<62)), true
	case float64:
		return int64(n), n == float64(int64(n))
	}
	return 0, false
}
