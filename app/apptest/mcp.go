package apptest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/client"
)

// MustBuildMCPEcho builds examples/mcp/echo (a stdio MCP server on the
// official Go SDK) into the test's temporary folder, made readable by the
// contained process's own uid, and returns the executable's path.
func MustBuildMCPEcho(tb testing.TB) string {
	tb.Helper()
	dir := tb.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			tb.Fatal(err)
		}
	}
	bin := filepath.Join(dir, "mcpecho")
	cmd := exec.Command("go", "build", "-o", bin, "./examples/mcp/echo")
	cmd.Dir = Root()
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build examples/mcp/echo: %v\n%s", err, out)
	}
	return bin
}

// MustAddMCPEcho adds examples/mcp/echo to the daemon as the MCP server
// "echo" (plugin mcp/echo, provider echo) and returns its installation.
func MustAddMCPEcho(tb testing.TB, cl *client.Client) *apispec.Installation {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	inst, err := cl.AddMCPServer(ctx, apispec.MCPServerRequest{Name: "echo", Command: []string{MustBuildMCPEcho(tb)}})
	if err != nil {
		tb.Fatalf("add MCP server: %v", err)
	}
	return inst
}
