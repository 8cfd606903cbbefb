package api_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/plugboard/plugboard/daemon/client"
)

// clockTicks is the unit of /proc/PID/stat's CPU times (USER_HZ, 100 on Linux).
const clockTicks = 100

// BenchmarkLLMChunkCPU streams LLM answers of 10,000 chunks each from the
// Python model plugin through a daemon in a child process (this test binary
// in daemon-only mode) and reports the daemon's CPU time (user + system,
// read from /proc) per chunk: reading the plugin's line, routing it,
// validating the LLMResultChunk, writing the SSE frame (goal: under 20 µs).
// The plugin's own CPU and the reader's are not counted.
func BenchmarkLLMChunkCPU(b *testing.B) {
	const chunks = 10000
	child, url := mustChildDaemon(b)
	d := &daemon{c: client.New(url, testKey)}
	d.MustInstall(b, pymodelPackage(b))
	body := []byte(`{"user_id":"bench","data":{"provider":"pymodel","model":"echo","credentials":{},` +
		`"model_parameters":{"repeat":` + strconv.Itoa(chunks) + `},"stream":true,` +
		`"prompt_messages":[{"role":"user","content":"token"}]}}`)
	invoke := func() {
		if got, err := streamFrames(url+"/plugin/default/dispatch/llm/invoke", body); err != nil || got != chunks+1 {
			b.Fatalf("got %d frames, %v; want %d", got, err, chunks+1)
		}
	}
	invoke() // warm up
	start, n := cpuTicks(b, child.Process.Pid), 0
	for b.Loop() {
		invoke()
		n += chunks + 1
	}
	used := cpuTicks(b, child.Process.Pid) - start
	b.ReportMetric(float64(used)*1e6/clockTicks/float64(n), "daemon-cpu-µs/chunk")
}

// streamFrames posts an LLM invocation and counts the success frames of its reply.
func streamFrames(url string, body []byte) (int, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	for k, v := range modelHeaders() {
		req.Header.Set(k, v)
	}
	resp, err := benchClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK || bytes.Contains(data, []byte(`"code":-`)) {
		return 0, fmt.Errorf("reply %d %.300s", resp.StatusCode, data)
	}
	return bytes.Count(data, []byte(`data: {"code":0,`)), nil
}

// cpuTicks reads a process's user + system CPU time in clock ticks.
func cpuTicks(tb testing.TB, pid int) int64 {
	tb.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		tb.Fatal(err)
	}
	// The fields after the command name (which may hold spaces) start at state.
	fields := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+2:]))
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		tb.Fatalf("/proc/%d/stat: %q", pid, raw)
	}
	return utime + stime
}
