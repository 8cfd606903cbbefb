package api_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/daemon/protocol"
)

// BenchmarkLLMChunkCPU streams LLM answers from the Python model plugin
// through a daemon in a child process (this test binary in daemon-only
// mode) and reports the daemon's CPU time (user + system, as getrusage
// counts it, read from the process's CPU-time clock) per chunk: reading the plugin's line,
// routing it, validating the LLMResultChunk, writing the SSE frame (goal:
// under 20 µs). The plugin's own CPU and the reader's are not counted.
//
// Burst: answers of 10,000 chunks as fast as the plugin writes them.
//
// Paced: answers of 500 chunks 0.5 ms apart, as a model streams tokens,
// so that every chunk wakes the process, is read alone and is flushed
// alone. Most of that cost is the wake-ups and system calls any relay
// pays, so the same answers also go, in the same loop, through a bare
// relay in another child process (modelReference: the plugin's lines from
// a pipe into SSE frames, one goroutine hop, nothing else), 8 answers each,
// interleaved; it reports the medians over those rounds of both and of
// their difference, what the daemon adds.
func BenchmarkLLMChunkCPU(b *testing.B) {
	child, url := mustChildDaemon(b)
	d := &daemon{c: client.New(url, testKey)}
	d.MustInstall(b, pymodelPackage(b))
	daemonURL := url + "/plugin/default/dispatch/llm/invoke"
	body := func(chunks int, pause string) []byte {
		return []byte(`{"user_id":"bench","data":{"provider":"pymodel","model":"echo","credentials":{},` +
			`"model_parameters":{"repeat":` + strconv.Itoa(chunks) + `,"pause_ms":` + pause + `},"stream":true,` +
			`"prompt_messages":[{"role":"user","content":"token"}]}}`)
	}
	invoke := func(b *testing.B, url string, body []byte, chunks int) {
		if got, err := streamFrames(url, body); err != nil || got != chunks+1 {
			b.Fatalf("%s: got %d frames, %v; want %d", url, got, err, chunks+1)
		}
	}
	b.Run("Burst", func(b *testing.B) {
		const chunks = 10000
		req := body(chunks, "0")
		invoke(b, daemonURL, req, chunks) // warm up
		start, n := cpuTime(b, child.Process.Pid), 0
		for b.Loop() {
			invoke(b, daemonURL, req, chunks)
			n += chunks + 1
		}
		used := cpuTime(b, child.Process.Pid) - start
		b.ReportMetric(float64(used.Nanoseconds())/1e3/float64(n), "daemon-cpu-µs/chunk")
	})
	b.Run("Paced", func(b *testing.B) {
		const chunks, rounds = 500, 8
		ref, refURL := mustChildModelReference(b)
		req := body(chunks, "0.5")
		invoke(b, daemonURL, req, chunks) // warm up
		invoke(b, refURL, req, chunks)
		pids := [2]int{child.Process.Pid, ref.Process.Pid}
		urls := [2]string{daemonURL, refURL}
		var own, relay, adds []float64 // per round, µs per chunk
		for b.Loop() {
			// Interleaved, each first in turn, so that both see the
			// machine's other work alike; medians of the rounds, so that
			// a burst of other work in one round does not count.
			for i := range rounds {
				var used [2]time.Duration
				for j := range 2 {
					k := (i + j) % 2
					t := cpuTime(b, pids[k])
					invoke(b, urls[k], req, chunks)
					used[k] = cpuTime(b, pids[k]) - t
				}
				d, r := float64(used[0].Nanoseconds())/1e3/(chunks+1), float64(used[1].Nanoseconds())/1e3/(chunks+1)
				own, relay, adds = append(own, d), append(relay, r), append(adds, d-r)
			}
		}
		b.ReportMetric(median(own), "daemon-cpu-µs/chunk")
		b.ReportMetric(median(relay), "relay-cpu-µs/chunk")
		b.ReportMetric(median(adds), "daemon-adds-µs/chunk")
	})
}

// median returns the middle of v (the mean of the two middle values when
// there are an even number), sorting v.
func median(v []float64) float64 {
	slices.Sort(v)
	if n := len(v); n%2 == 0 {
		return (v[n/2-1] + v[n/2]) / 2
	}
	return v[len(v)/2]
}

// childModelRefEnv makes the test binary serve modelReference, print its
// URL and exit when stdin closes.
const childModelRefEnv = "PLUGBOARD_API_CHILD_MODEL_REFERENCE"

// mustChildModelReference starts this test binary as a model reference relay.
func mustChildModelReference(b *testing.B) (*exec.Cmd, string) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childModelRefEnv+"=1")
	return startChild(b, cmd)
}

// serveModelReference runs the bare relay the daemon's paced chunks are
// compared with: the Python model plugin started directly, its session
// events decoded and routed to the caller of a plain HTTP handler, which
// writes each chunk in the daemon's SSE frame and flushes it.
func serveModelReference() int {
	r := &modelReference{sessions: map[string]chan json.RawMessage{}}
	cmd := exec.Command("python3", "main.py")
	cmd.Dir = "testdata/pymodel"
	cmd.Stderr = os.Stderr
	var err error
	if r.stdin, err = cmd.StdinPipe(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	stdout, err := cmd.StdoutPipe()
	if err == nil {
		err = cmd.Start()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { r.stdin.Close(); cmd.Process.Kill(); cmd.Wait() }()
	go r.read(stdout)
	srv := httptest.NewServer(http.HandlerFunc(r.invoke))
	defer srv.Close()
	fmt.Println(srv.URL)
	_, _ = io.Copy(io.Discard, os.Stdin)
	return 0
}

// modelReference is the bare model relay (see serveModelReference).
type modelReference struct {
	wmu      sync.Mutex
	stdin    io.WriteCloser
	mu       sync.Mutex
	sessions map[string]chan json.RawMessage // nil data: the session ended
	seq      atomic.Uint64
}

// read routes the plugin's session events to their callers, reading each
// line's members with the daemon's picker (protocol.Pick) and checking
// nothing: the least a relay can do.
func (r *modelReference) read(stdout io.Reader) {
	br := bufio.NewReaderSize(stdout, 64<<10)
	var ev [3][]byte
	var sd [2][]byte
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return
		}
		if len(line) < 2 || !protocol.Pick(line, eventKeys, ev[:]) || string(ev[0]) != `"session"` ||
			!protocol.Pick(ev[2], sessionKeys, sd[:]) {
			continue
		}
		r.mu.Lock()
		ch := r.sessions[string(bytes.Trim(ev[1], `"`))]
		r.mu.Unlock()
		switch {
		case ch == nil:
		case string(sd[0]) == `"stream"`:
			ch <- bytes.Clone(sd[1])
		default:
			ch <- nil
		}
	}
}

// Members read by modelReference.read.
var (
	eventKeys   = []string{"event", "session_id", "data"}
	sessionKeys = []string{"type", "data"}
)

// invoke forwards one llm/invoke and streams its chunks as SSE frames.
func (r *modelReference) invoke(w http.ResponseWriter, req *http.Request) {
	var in apispec.InvokeRequest[apispec.ModelData]
	if err := json.NewDecoder(req.Body).Decode(&in); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	sid := strconv.FormatUint(r.seq.Add(1), 10)
	ch := make(chan json.RawMessage, 64)
	r.mu.Lock()
	r.sessions[sid] = ch
	r.mu.Unlock()
	defer func() { r.mu.Lock(); delete(r.sessions, sid); r.mu.Unlock() }()
	mr := in.Data.ModelRequest
	mr.ModelType = "llm"
	data := protocol.RequestData{UserID: in.UserID, Type: protocol.TypeModel, Action: protocol.ActionInvokeLLM,
		Provider: in.Data.Provider, Credentials: in.Data.Credentials, ModelRequest: &mr}.Wire()
	line, _ := json.Marshal(protocol.Request{SessionID: sid, Event: protocol.EventRequest, Data: &data})
	r.wmu.Lock()
	_, err := r.stdin.Write(append(line, '\n'))
	r.wmu.Unlock()
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	for chunk := range ch {
		if chunk == nil {
			return
		}
		w.Write(append(append([]byte(`data: {"code":0,"message":"success","data":`), chunk...), "}\n\n"...))
		w.(http.Flusher).Flush()
	}
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

// cpuTime reads a process's CPU time (user + system, all its threads, the
// total getrusage reports) from its CPU-time clock, to the nanosecond.
func cpuTime(tb testing.TB, pid int) time.Duration {
	tb.Helper()
	var ts unix.Timespec
	if err := unix.ClockGettime(int32((^pid)<<3|2), &ts); err != nil { // the process's CPUCLOCK_SCHED
		tb.Fatalf("CPU clock of %d: %v", pid, err)
	}
	return time.Duration(ts.Nano())
}
