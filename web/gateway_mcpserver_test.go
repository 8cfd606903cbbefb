package web_test

import (
	"context"
	"slices"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/plugboard/plugboard/app/apptest"
	"github.com/plugboard/plugboard/store"
)

// TestGatewayMCPServerProvider: an MCP server added as a tool provider
// (examples/mcp/echo, hosted by the daemon) is offered through the
// gateway's own /mcp like a plugin's tools, and called through it.
func TestGatewayMCPServerProvider(t *testing.T) {
	a := MustCredApp(t)
	apptest.MustAddMCPEcho(t, a.Daemon)
	key := mustKey(t, a, "outside", store.APIKeyInput{Scope: store.APIKeyScope{Providers: []store.ScopeProvider{
		{PluginID: "mcp/echo", Provider: "echo", Tools: []string{"echo", "fail"}}}}})
	s, _ := mustMCP(t, a, key)
	names := toolNames(t, s)
	if !slices.Contains(names, "echo__echo") || !slices.Contains(names, "echo__fail") || slices.Contains(names, "echo__crash") {
		t.Fatalf("the key's tools are %v, want echo__echo and echo__fail only", names)
	}
	ctx := context.Background()
	res, err := s.CallTool(ctx, &mcp.CallToolParams{Name: "echo__echo", Arguments: map[string]any{"text": "through two MCP hops", "upper": true}})
	if err != nil || res.IsError || callText(res) != "echo: THROUGH TWO MCP HOPS" {
		t.Fatalf("echo: %+v %v (text %q)", res, err, callText(res))
	}
	res, err = s.CallTool(ctx, &mcp.CallToolParams{Name: "echo__fail", Arguments: map[string]any{"reason": "on purpose"}})
	if err != nil || !res.IsError {
		t.Fatalf("fail: %+v %v", res, err)
	}
}
