package web_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/store"
)

// BenchmarkGatewayEcho compares, in one run, an MCP tools/call of the
// echo tool (stream_text with one word and no delay) through /mcp — key,
// scope, argument check, app/invoke's run record, audit — with the same
// invocation made directly on the daemon's API over HTTP, as an outside
// client makes it, at 1 and 64 concurrent callers. The app reaches its
// daemon as serve's embedded one (client.InProcess). It reports both per
// call, the process's CPU per call (app, daemon and clients; the plugin's
// process apart) and their ratio (goal: under 1.5); sdk-client/direct is
// the same call made through the go-sdk's client, for reference.
func BenchmarkGatewayEcho(b *testing.B) {
	a := mustCredAppLogging(b, slog.LevelInfo)
	key := mustKey(b, a, "bench", store.APIKeyInput{Scope: gotoolsScope(0, "stream_text"), RatePerMinute: store.MaxRatePerMinute})
	ctx := context.Background()
	direct := func(int) error {
		st, err := a.Daemon.InvokeTool(ctx, gotoolsID, apispec.InvokeToolData{Provider: "gotools", Tool: "stream_text",
			ToolParameters: map[string]any{"text": "echo", "delay_ms": 0}}, "bench")
		if err != nil {
			return err
		}
		defer st.Close()
		for {
			if _, err := st.Next(); errors.Is(err, io.EOF) {
				return nil
			} else if err != nil {
				return err
			}
		}
	}
	for _, c := range []int{1, 64} {
		b.Run(fmt.Sprintf("c=%d", c), func(b *testing.B) {
			sessions := make([]*mcp.ClientSession, c)
			for i := range sessions {
				sessions[i], _ = mustMCP(b, a, key)
			}
			viaSDK := func(w int) error {
				res, err := sessions[w].CallTool(ctx, &mcp.CallToolParams{Name: "gotools__stream_text", Arguments: map[string]any{"text": "echo"}})
				if err == nil && (res.IsError || callText(res) != "echo") {
					err = fmt.Errorf("answer %q", callText(res))
				}
				return err
			}
			hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 128}}
			body := []byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"gotools__stream_text","arguments":{"text":"echo"}}}`)
			viaMCP := func(w int) error {
				req, _ := http.NewRequest(http.MethodPost, a.URL+"/mcp", bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+key)
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Accept", "application/json, text/event-stream")
				req.Header.Set("Mcp-Session-Id", sessions[w].ID())
				req.Header.Set("Mcp-Protocol-Version", sessions[w].InitializeResult().ProtocolVersion)
				resp, err := hc.Do(req)
				if err != nil {
					return err
				}
				defer resp.Body.Close()
				got, err := io.ReadAll(resp.Body)
				if err == nil && !bytes.Contains(got, []byte(`"text":"echo"`)) {
					err = fmt.Errorf("answer %d %s", resp.StatusCode, got)
				}
				return err
			}
			n := max(b.N, 200)
			measure(b, c, 100, direct) // warm both paths
			measure(b, c, 100, viaMCP)
			measure(b, c, 100, viaSDK)
			b.ResetTimer()
			d, dCPU := measureCPU(b, c, n, direct, nil)
			m, mCPU := measureCPU(b, c, n, viaMCP, a.Store.WaitWrites) // the runs' records count
			sdk := measure(b, c, n, viaSDK)
			b.StopTimer()
			b.ReportMetric(float64(d.Microseconds())/float64(n), "direct-µs/call")
			b.ReportMetric(float64(m.Microseconds())/float64(n), "mcp-µs/call")
			b.ReportMetric(float64(dCPU.Microseconds()), "direct-cpu-µs/call")
			b.ReportMetric(float64(mCPU.Microseconds()), "mcp-cpu-µs/call")
			b.ReportMetric(float64(m)/float64(d), "mcp/direct")
			b.ReportMetric(float64(sdk)/float64(d), "sdk-client/direct")
		})
	}
}

// processCPU is the CPU time this process (the app, its daemon, the
// benchmark's clients; not the plugin's process) has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// measureCPU is measure that also returns the process's CPU time per call;
// settle (nil: none) runs before the clocks stop, so that work the calls
// left behind (their runs' records) counts for them.
func measureCPU(b *testing.B, c, n int, call func(worker int) error, settle func() error) (time.Duration, time.Duration) {
	start, cpu := time.Now(), processCPU()
	measure(b, c, n, call)
	if settle != nil {
		if err := settle(); err != nil {
			b.Fatal(err)
		}
	}
	return time.Since(start), (processCPU() - cpu) / time.Duration(n)
}

// measure makes n calls with c workers and returns how long they took.
func measure(b *testing.B, c, n int, call func(worker int) error) time.Duration {
	var wg sync.WaitGroup
	var once sync.Once
	jobs := make(chan struct{}, n)
	for range n {
		jobs <- struct{}{}
	}
	close(jobs)
	start := time.Now()
	for w := range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				if err := call(w); err != nil {
					once.Do(func() { b.Error(err) })
				}
			}
		}()
	}
	wg.Wait()
	return time.Since(start)
}
