package web_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
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
// daemon as serve's embedded one (client.InProcess). The calls are made in
// rounds that alternate between the two ways (a round's MCP calls include
// the writing of their runs' records), so that both meet the same machine:
// on a small shared one a burst of other work lands in one round of each
// way rather than in all of one way's calls. It reports both per call, the
// process's CPU per call (app, daemon and clients; the plugin's process
// apart), their ratio over all rounds (goal: under 1.5), the lowest and
// highest ratio of a single round pair, and sdk-client/direct, the call
// made through the go-sdk's client, for reference.
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
			var d, dCPU, m, mCPU time.Duration
			low, high := math.Inf(1), 0.0
			for range gatewayRounds {
				rd, rdCPU := measureCPU(b, c, n/gatewayRounds, direct, nil)
				rm, rmCPU := measureCPU(b, c, n/gatewayRounds, viaMCP, a.Store.WaitWrites) // the runs' records count
				d, dCPU, m, mCPU = d+rd, dCPU+rdCPU, m+rm, mCPU+rmCPU
				low, high = min(low, float64(rm)/float64(rd)), max(high, float64(rm)/float64(rd))
			}
			sdk := measure(b, c, n, viaSDK)
			b.StopTimer()
			calls := float64(n / gatewayRounds * gatewayRounds)
			b.ReportMetric(float64(d.Microseconds())/calls, "direct-µs/call")
			b.ReportMetric(float64(m.Microseconds())/calls, "mcp-µs/call")
			b.ReportMetric(float64(dCPU.Microseconds())/gatewayRounds, "direct-cpu-µs/call")
			b.ReportMetric(float64(mCPU.Microseconds())/gatewayRounds, "mcp-cpu-µs/call")
			b.ReportMetric(float64(m)/float64(d), "mcp/direct")
			b.ReportMetric(low, "lowest-round-mcp/direct")
			b.ReportMetric(high, "highest-round-mcp/direct")
			b.ReportMetric(float64(sdk)/(float64(d)*float64(n)/calls), "sdk-client/direct")
		})
	}
}

// gatewayRounds is how many rounds of each way BenchmarkGatewayEcho makes.
const gatewayRounds = 16

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
