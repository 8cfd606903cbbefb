package api_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/daemon/protocol"
)

// The invocation every throughput benchmark makes: one text chunk.
var oneChunkBody = []byte(`{"user_id":"bench","data":{"provider":"gotools","tool":"stream_text",` +
	`"tool_parameters":{"text":"hello","delay_ms":0},"credentials":{},"credential_type":"api-key"}}`)

// benchClient is a keep-alive HTTP client with room for every concurrent caller.
var benchClient = &http.Client{Transport: &http.Transport{MaxIdleConns: 512, MaxIdleConnsPerHost: 256}}

// invoker posts one invocation to url and reads the whole reply.
type invoker struct{ url string }

// do makes one invocation and checks it succeeded.
func (v invoker) do(body []byte) (int, error) {
	req, err := http.NewRequest(http.MethodPost, v.url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("X-Api-Key", testKey)
	req.Header.Set("X-Plugin-ID", gotoolID)
	req.Header.Set("Content-Type", "application/json")
	resp, err := benchClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK || !bytes.HasPrefix(data, []byte(`data: {"code":0,`)) {
		return 0, fmt.Errorf("reply %d %.300s", resp.StatusCode, data)
	}
	return bytes.Count(data, []byte("\n\n")), nil
}

// result is a measured run.
type result struct {
	n       int
	elapsed time.Duration
	p50     time.Duration
}

func (r result) perSecond() float64 { return float64(r.n) / r.elapsed.Seconds() }

// measure makes n invocations with conc concurrent callers.
func measure(v invoker, n, conc int) (result, error) {
	var next atomic.Int64
	lat := make([][]time.Duration, conc)
	errc := make(chan error, conc)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				t := time.Now()
				if _, err := v.do(oneChunkBody); err != nil {
					errc <- err
					return
				}
				lat[w] = append(lat[w], time.Since(t))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errc)
	if err := <-errc; err != nil {
		return result{}, err
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	return result{n: n, elapsed: elapsed, p50: all[len(all)/2]}, nil
}

// report records a run's metrics.
func report(b *testing.B, r result) {
	b.ReportMetric(r.perSecond(), "invocations/s")
	b.ReportMetric(float64(r.p50.Microseconds()), "p50-µs")
}

// benchPaths returns invokers of the daemon and of the reference path.
func benchPaths(b *testing.B) (daemonPath, refPath invoker) {
	d, _ := MustShared(b)
	ref := MustReference(b)
	return invoker{d.srv.URL + "/plugin/default/dispatch/tool/invoke"}, invoker{ref.URL + "/invoke"}
}

// BenchmarkInvoke compares one-chunk tool invocations through the daemon's
// API with a bare HTTP → pipe → plugin reference, at 1 and 64 callers.
func BenchmarkInvoke(b *testing.B) {
	daemonPath, refPath := benchPaths(b)
	for _, path := range []struct {
		name string
		v    invoker
	}{{"daemon", daemonPath}, {"reference", refPath}} {
		for _, conc := range []int{1, 64} {
			b.Run(fmt.Sprintf("%s/c=%d", path.name, conc), func(b *testing.B) {
				r, err := measure(path.v, b.N, conc)
				if err != nil {
					b.Fatal(err)
				}
				report(b, r)
			})
		}
	}
}

// BenchmarkRatio runs both paths in one run and reports the daemon's
// throughput at 64 callers and p50 at 1 caller relative to the reference
// (goals: throughput-ratio-c64 ≥ 0.7, p50-ratio-c1 ≤ 1.5).
func BenchmarkRatio(b *testing.B) {
	daemonPath, refPath := benchPaths(b)
	for b.Loop() {
		var runs [4]result
		for i, c := range []struct {
			v       invoker
			n, conc int
		}{{refPath, 20000, 64}, {daemonPath, 20000, 64}, {refPath, 3000, 1}, {daemonPath, 3000, 1}} {
			r, err := measure(c.v, c.n, c.conc)
			if err != nil {
				b.Fatal(err)
			}
			runs[i] = r
		}
		b.ReportMetric(runs[1].perSecond(), "daemon-c64-invocations/s")
		b.ReportMetric(runs[0].perSecond(), "reference-c64-invocations/s")
		b.ReportMetric(runs[1].perSecond()/runs[0].perSecond(), "throughput-ratio-c64")
		b.ReportMetric(float64(runs[3].p50.Microseconds()), "daemon-c1-p50-µs")
		b.ReportMetric(float64(runs[2].p50.Microseconds()), "reference-c1-p50-µs")
		b.ReportMetric(float64(runs[3].p50)/float64(runs[2].p50), "p50-ratio-c1")
	}
}

// BenchmarkStream10k streams one invocation of 10,000 text chunks through
// the daemon (goal: 200,000 chunks/s or more).
func BenchmarkStream10k(b *testing.B) {
	const chunks = 10000
	daemonPath, _ := benchPaths(b)
	params, _ := json.Marshal(map[string]any{"text": strings.TrimSpace(strings.Repeat("w ", chunks)), "delay_ms": 0})
	body := []byte(`{"user_id":"bench","data":{"provider":"gotools","tool":"stream_text","tool_parameters":` +
		string(params) + `,"credentials":{}}}`)
	start := time.Now()
	n := 0
	for b.Loop() {
		got, err := daemonPath.do(body)
		if err != nil {
			b.Fatal(err)
		}
		if got != chunks {
			b.Fatalf("got %d frames, want %d", got, chunks)
		}
		n++
	}
	b.ReportMetric(float64(n*chunks)/time.Since(start).Seconds(), "chunks/s")
}

// BenchmarkRSSAfterInstalls starts a daemon in a child process (this test
// binary in daemon-only mode), uploads and installs 10 plugins into it
// through the API and reports the child's resident memory right after the
// last install task ends, without idling (goal: under 50 MB); the plugins'
// own processes are not counted.
func BenchmarkRSSAfterInstalls(b *testing.B) {
	pkgs := make([][]byte, 10)
	for i := range pkgs {
		pkgs[i] = plugin(b, "gotools"+strconv.Itoa(i))
	}
	child, url := mustChildDaemon(b)
	d := &daemon{c: client.New(url, testKey)}
	for _, p := range pkgs {
		d.MustInstall(b, p)
	}
	rss := mustVmRSS(b, child.Process.Pid)
	if h, err := d.c.Health(context.Background()); err != nil || h.Plugins != len(pkgs) {
		b.Fatalf("health = %+v, %v", h, err)
	}
	for b.Loop() {
		mustVmRSS(b, child.Process.Pid)
	}
	b.ReportMetric(float64(rss)/(1<<20), "rss-after-10-installs-MB")
}

// mustChildDaemon starts this test binary as a daemon on a fresh data dir.
func mustChildDaemon(b *testing.B) (*exec.Cmd, string) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childDaemonEnv+"="+b.TempDir())
	return startChild(b, cmd)
}

// startChild starts a child that prints its URL and ends when its stdin closes.
func startChild(b *testing.B, cmd *exec.Cmd) (*exec.Cmd, string) {
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { stdin.Close(); cmd.Wait() })
	url, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatalf("child %s printed no URL: %v", cmd.Env[len(cmd.Env)-1], err)
	}
	return cmd, strings.TrimSpace(url)
}

// mustVmRSS reads a process's resident set size in bytes.
func mustVmRSS(tb testing.TB, pid int) int64 {
	tb.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		tb.Fatal(err)
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				tb.Fatal(err)
			}
			return kb << 10
		}
	}
	tb.Fatalf("no VmRSS in /proc/%d/status", pid)
	return 0
}

// reference is the bare path the daemon is measured against: an HTTP
// handler forwarding each invocation over a pipe to the same plugin binary,
// streaming the chunks back as SSE, with a plain session map and nothing else.
type reference struct {
	URL      string
	cmd      *exec.Cmd
	srv      *httptest.Server
	wmu      sync.Mutex
	stdin    io.WriteCloser
	mu       sync.Mutex
	sessions map[string]chan protocol.SessionData
	seq      atomic.Uint64
	ready    chan struct{}
}

var refOnce struct {
	sync.Once
	r   *reference
	err error
}

// MustReference starts (once) the reference server and its plugin process.
func MustReference(tb testing.TB) *reference {
	tb.Helper()
	plugin(tb, "gotools") // builds the binary
	refOnce.Do(func() { refOnce.r, refOnce.err = startReference(binPath) })
	if refOnce.err != nil {
		tb.Fatal(refOnce.err)
	}
	return refOnce.r
}

func startReference(bin string) (*reference, error) {
	r := &reference{sessions: map[string]chan protocol.SessionData{}, ready: make(chan struct{})}
	r.cmd = exec.Command(bin)
	r.cmd.Dir = filepath.Dir(bin)
	r.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + filepath.Dir(bin)}
	var err error
	if r.stdin, err = r.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := r.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := r.cmd.Start(); err != nil {
		return nil, err
	}
	go r.read(stdout)
	select {
	case <-r.ready:
	case <-time.After(10 * time.Second):
		r.cmd.Process.Kill()
		return nil, fmt.Errorf("reference plugin sent no heartbeat")
	}
	r.srv = httptest.NewServer(http.HandlerFunc(r.invoke))
	r.URL = r.srv.URL
	return r, nil
}

// read routes the plugin's session events to their callers.
func (r *reference) read(stdout io.Reader) {
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64<<10), 8<<20)
	var once sync.Once
	for sc.Scan() {
		var ev protocol.Event
		if json.Unmarshal(sc.Bytes(), &ev) != nil {
			continue
		}
		once.Do(func() { close(r.ready) })
		if ev.Event != protocol.EventSession {
			continue
		}
		var sd protocol.SessionData
		if json.Unmarshal(ev.Data, &sd) != nil {
			continue
		}
		r.mu.Lock()
		ch := r.sessions[ev.SessionID]
		r.mu.Unlock()
		if ch != nil {
			ch <- sd
		}
	}
}

// invoke forwards one invocation and streams its chunks as SSE frames.
func (r *reference) invoke(w http.ResponseWriter, req *http.Request) {
	var in apispec.InvokeRequest[apispec.InvokeToolData]
	if err := json.NewDecoder(req.Body).Decode(&in); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	sid := strconv.FormatUint(r.seq.Add(1), 10)
	ch := make(chan protocol.SessionData, 64)
	r.mu.Lock()
	r.sessions[sid] = ch
	r.mu.Unlock()
	defer func() { r.mu.Lock(); delete(r.sessions, sid); r.mu.Unlock() }()
	line, _ := json.Marshal(protocol.Request{SessionID: sid, Event: protocol.EventRequest, Data: &protocol.RequestData{
		UserID: in.UserID, Type: protocol.TypeTool, Action: protocol.ActionInvokeTool, Provider: in.Data.Provider,
		Tool: in.Data.Tool, ToolParameters: in.Data.ToolParameters, Credentials: in.Data.Credentials}})
	r.wmu.Lock()
	_, err := r.stdin.Write(append(line, '\n'))
	r.wmu.Unlock()
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	for sd := range ch {
		if sd.Type != protocol.SessionStream {
			return
		}
		w.Write(append(append([]byte(`data: {"code":0,"message":"success","data":`), sd.Data...), "}\n\n"...))
		w.(http.Flusher).Flush()
	}
}

// closeReference stops the reference server and its plugin.
func closeReference() {
	if r := refOnce.r; r != nil {
		r.srv.Close()
		r.stdin.Close()
		r.cmd.Process.Kill()
		r.cmd.Wait()
	}
}
