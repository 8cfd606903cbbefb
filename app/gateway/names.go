package gateway

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// maxName is the longest tool name MCP allows (^[a-zA-Z0-9_-]{1,64}$).
const maxName = 64

// sanitize keeps the characters MCP allows in a tool name, others
// becoming "_".
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' {
			return r
		}
		return '_'
	}, s)
}

// fitName cuts a name past MCP's length to fit, ending it with a hash of
// what it stands for (full), so that cut names stay apart.
func fitName(name, full string) string {
	if len(name) <= maxName {
		return name
	}
	sum := sha256.Sum256([]byte(full))
	return name[:maxName-9] + "_" + hex.EncodeToString(sum[:4])
}

// namer hands out tool names: provider__tool for the first tool to claim
// one (the catalog asks in installation order, so an installed tool keeps
// its name), the plugin's name in front for later ones whose short name is
// taken, a hash when even that is.
type namer struct{ taken map[string]bool }

func (n *namer) name(pluginID, provider, tool string) string {
	full := pluginID + "/" + provider + "/" + tool
	for _, cand := range []string{
		sanitize(provider) + "__" + sanitize(tool),
		sanitize(strings.ReplaceAll(pluginID, "/", "_")) + "__" + sanitize(provider) + "__" + sanitize(tool),
	} {
		if c := fitName(cand, full); !n.taken[c] {
			n.taken[c] = true
			return c
		}
	}
	sum := sha256.Sum256([]byte(full))
	c := fitName(sanitize(provider)+"__"+sanitize(tool)+"_"+hex.EncodeToString(sum[:4]), full)
	n.taken[c] = true
	return c
}
