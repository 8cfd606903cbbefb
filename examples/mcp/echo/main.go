// Command echo is a small MCP server (stdio, the official Go SDK) to try
// Plugboard's MCP providers with, and what their tests run:
//
//	echo     answers its text (and, with upper, in capitals)
//	slow     sends a progress notification per step, then "done"; a
//	         cancellation is written to stderr ("slow: cancelled")
//	fail     answers isError with its reason
//	crash    exits the process at once
//	garble   writes a line that is not JSON-RPC to stdout
//	hang     points its stdout at /dev/null: alive, it answers nothing, pings neither
//	picture  answers an image, a resource link and structured content
//	getenv   answers whether an environment variable is set and its length
//	extra    listed only while a file named echo-extra is in its working
//	         directory (to see a server's tools change across a restart)
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

type echoIn struct {
	Text  string `json:"text" jsonschema:"the text to echo"`
	Upper bool   `json:"upper,omitempty" jsonschema:"answer in capitals"`
}

type slowIn struct {
	Steps int `json:"steps" jsonschema:"how many progress steps to send"`
	// DelayMS is the time between steps.
	DelayMS int `json:"delay_ms,omitempty" jsonschema:"milliseconds between steps"`
}

type failIn struct {
	Reason string `json:"reason" jsonschema:"what to fail with"`
}

type none struct{}

func text(s string) *mcp.CallToolResult {
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: s}}}
}

// png is a 1×1 transparent PNG.
var png = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")

func main() {
	s := mcp.NewServer(&mcp.Implementation{Name: "echo", Version: "1.0.0"}, nil)
	mcp.AddTool(s, &mcp.Tool{Name: "echo", Description: "Echo the text back."},
		func(_ context.Context, _ *mcp.CallToolRequest, in echoIn) (*mcp.CallToolResult, any, error) {
			if in.Upper {
				in.Text = strings.ToUpper(in.Text)
			}
			return text("echo: " + in.Text), nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "slow", Description: "Count steps, reporting progress."},
		func(ctx context.Context, req *mcp.CallToolRequest, in slowIn) (*mcp.CallToolResult, any, error) {
			delay := time.Duration(max(in.DelayMS, 1)) * time.Millisecond
			for i := 1; i <= in.Steps; i++ {
				if tok := req.Params.GetProgressToken(); tok != nil {
					_ = req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{
						ProgressToken: tok, Progress: float64(i), Total: float64(in.Steps), Message: fmt.Sprintf("step %d of %d", i, in.Steps),
					})
				}
				select {
				case <-ctx.Done():
					fmt.Fprintln(os.Stderr, "slow: cancelled")
					return nil, nil, ctx.Err()
				case <-time.After(delay):
				}
			}
			return text("done"), nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "fail", Description: "Fail with the reason."},
		func(_ context.Context, _ *mcp.CallToolRequest, in failIn) (*mcp.CallToolResult, any, error) {
			return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: "failed: " + in.Reason}}}, nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "crash", Description: "Exit the server."},
		func(context.Context, *mcp.CallToolRequest, none) (*mcp.CallToolResult, any, error) {
			fmt.Fprintln(os.Stderr, "crash: exiting as asked")
			os.Exit(3)
			return nil, nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "garble", Description: "Write a line that is not JSON-RPC."},
		func(context.Context, *mcp.CallToolRequest, none) (*mcp.CallToolResult, any, error) {
			fmt.Fprintln(os.Stdout, "this is not JSON-RPC")
			time.Sleep(time.Minute)
			return text("unreachable"), nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "hang", Description: "Stop the server's process."},
		func(context.Context, *mcp.CallToolRequest, none) (*mcp.CallToolResult, any, error) {
			fmt.Fprintln(os.Stderr, "hang: answering nothing from now on")
			// A copy keeps the pipe open, so the client sees no end, only silence.
			if _, err := syscall.Dup(1); err == nil {
				if null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0); err == nil {
					_ = syscall.Dup3(int(null.Fd()), 1, 0)
				}
			}
			time.Sleep(24 * time.Hour)
			return text("unreachable"), nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "getenv", Description: "Say whether a variable is set, and its length."},
		func(_ context.Context, _ *mcp.CallToolRequest, in struct {
			Name string `json:"name" jsonschema:"the variable's name"`
		}) (*mcp.CallToolResult, any, error) {
			v, ok := os.LookupEnv(in.Name)
			return text(fmt.Sprintf("%s set=%v length=%d", in.Name, ok, len(v))), nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "picture", Description: "An image, a link and structured content."},
		func(context.Context, *mcp.CallToolRequest, none) (*mcp.CallToolResult, map[string]any, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{
				&mcp.ImageContent{Data: png, MIMEType: "image/png"},
				&mcp.ResourceLink{URI: "https://example.com/doc", Name: "doc"},
			}}, map[string]any{"width": 1, "height": 1}, nil
		})
	if _, err := os.Stat("echo-extra"); err == nil {
		mcp.AddTool(s, &mcp.Tool{Name: "extra", Description: "There when echo-extra is."},
			func(context.Context, *mcp.CallToolRequest, none) (*mcp.CallToolResult, any, error) {
				return text("extra"), nil, nil
			})
	}
	if err := s.Run(context.Background(), &mcp.StdioTransport{}); err != nil {
		log.Fatal(err)
	}
}
