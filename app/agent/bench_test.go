package agent_test

import (
	"context"
	"testing"
	"time"

	"github.com/plugboard/plugboard/store"
)

// BenchmarkAgentLoop runs the demo model's two-tools-then-one scenario
// with gotools under a real daemon and reports what the agent loop itself
// adds per step: each step's wall time minus its model call's time (less
// the time the agent spent handing the model's text on, which is counted
// as the loop's) and its tools' time (per wave of concurrent calls, the
// slowest invoke.Call). The loop's part holds the events, the step's
// JSON and its store write, and reading each tool run's messages back for
// the observation. run-overhead-ms is what a run adds outside its steps
// (checking the model and tools, recording the run and its end).
func BenchmarkAgentLoop(b *testing.B) {
	env := MustEnv(b)
	req := env.request("hello agent", "json_echo", "stream_text", "render_png")
	req.Parameters = map[string]any{"delay_ms": 0}
	ctx := context.Background()
	var loop, model, tools, stepsTook, wall float64
	var nsteps int
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		r, err := env.Svc.Run(ctx, req, nil)
		wall += float64(time.Since(start).Microseconds()) / 1000
		if err != nil || r.Status != store.RunDone {
			b.Fatalf("run: %v %+v", err, r)
		}
		for _, st := range steps(b, r) {
			loop, model, tools, stepsTook = loop+st.LoopMS, model+st.ModelMS, tools+st.ToolsMS, stepsTook+st.TookMS
			nsteps++
		}
	}
	b.StopTimer()
	n := float64(nsteps)
	b.ReportMetric(loop/n*1000, "loop-µs/step")
	b.ReportMetric(model/n, "model-ms/step")
	b.ReportMetric(tools/n, "tools-ms/step")
	b.ReportMetric((wall-stepsTook)/float64(b.N), "run-overhead-ms")
}
