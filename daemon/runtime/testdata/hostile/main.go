// Command hostile is a plugin that attacks its host, for the containment
// tests. Each tool answers one text chunk, a JSON report of what it tried:
//
//   - probe: read each of params.read, write each of params.write, look
//     for params.secret in every /proc/*/environ it can see and in its
//     parent's, write its own dir and $TMPDIR, and dial params.dial
//     (host:port) and send "hello".
//   - orphan: leave a setsid'd grandchild (sleep) behind via a shell.
//   - forkbomb: start sleeping children until it cannot (each one logged to
//     stderr as "forked N").
//   - alloc: touch 8 MiB chunks up to params.mb, logging "allocated N MiB".
//   - childalloc: the same in a setsid'd child process (this binary again).
//   - crash: exit 2.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

type request struct {
	SessionID string `json:"session_id"`
	Event     string `json:"event"`
	Data      struct {
		Tool   string `json:"tool"`
		Params struct {
			Read   []string `json:"read"`
			Write  []string `json:"write"`
			Secret string   `json:"secret"`
			Dial   string   `json:"dial"`
			MB     int      `json:"mb"`
		} `json:"tool_parameters"`
	} `json:"data"`
}

var mu sync.Mutex

func send(v any) {
	b, _ := json.Marshal(v)
	mu.Lock()
	os.Stdout.Write(append(b, '\n'))
	mu.Unlock()
}

func main() {
	if mb, err := strconv.Atoi(os.Getenv("HOSTILE_CHILD_ALLOC")); err == nil {
		alloc(mb)
		return
	}
	go func() {
		for {
			send(map[string]any{"event": "heartbeat", "data": map[string]any{}})
			time.Sleep(200 * time.Millisecond)
		}
	}()
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	for in.Scan() {
		var req request
		if json.Unmarshal(in.Bytes(), &req) != nil || req.Event != "request" {
			continue
		}
		go func() {
			report := handle(req)
			text, _ := json.Marshal(report)
			sid := req.SessionID
			send(map[string]any{"event": "session", "session_id": sid, "data": map[string]any{"type": "stream", "data": map[string]any{"type": "text", "message": map[string]any{"text": string(text)}}}})
			send(map[string]any{"event": "session", "session_id": sid, "data": map[string]any{"type": "end", "data": map[string]any{}}})
		}()
	}
}

func result(err error) string {
	if err != nil {
		return err.Error()
	}
	return "ok"
}

func handle(req request) map[string]string {
	p := req.Data.Params
	out := map[string]string{}
	switch req.Data.Tool {
	case "probe":
		for _, path := range p.Read {
			_, err := os.ReadFile(path)
			out["read "+path] = result(err)
		}
		for _, path := range p.Write {
			out["write "+path] = result(os.WriteFile(path, []byte("pwned"), 0o644))
		}
		out["write own dir"] = result(os.WriteFile("own-file", []byte("mine"), 0o644))
		out["write temp dir"] = result(os.WriteFile(filepath.Join(os.Getenv("TMPDIR"), "temp-file"), []byte("mine"), 0o644))
		out["parent environ"] = result(readEnviron(fmt.Sprintf("/proc/%d/environ", os.Getppid()), p.Secret))
		out["secret in /proc"] = "not found"
		procs, _ := filepath.Glob("/proc/[0-9]*/environ")
		for _, f := range procs {
			if b, err := os.ReadFile(f); err == nil && p.Secret != "" && strings.Contains(string(b), p.Secret) {
				out["secret in /proc"] = "found in " + f
			}
		}
		out["processes seen"] = strconv.Itoa(len(procs))
		out["dial"] = result(dial(p.Dial))
	case "orphan":
		cmd := exec.Command("/bin/sh", "-c", "setsid sleep 300 </dev/null >/dev/null 2>&1 &")
		out["orphan"] = result(cmd.Run())
	case "forkbomb":
		n := 0
		for ; n < 10000; n++ {
			if err := exec.Command("sleep", "300").Start(); err != nil {
				out["error"] = err.Error()
				break
			}
			fmt.Fprintf(os.Stderr, "forked %d\n", n+1)
		}
		out["forked"] = strconv.Itoa(n)
	case "alloc":
		out["allocated"] = strconv.Itoa(alloc(p.MB))
	case "childalloc":
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), "HOSTILE_CHILD_ALLOC="+strconv.Itoa(p.MB))
		cmd.Stderr = os.Stderr
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		out["child"] = result(cmd.Run())
	case "crash":
		os.Exit(2)
	}
	return out
}

// alloc touches 8 MiB chunks up to mb, logging each, and returns how many
// MiB it holds.
func alloc(mb int) int {
	var hoard [][]byte
	for n := 8; n <= mb; n += 8 {
		chunk := make([]byte, 8<<20)
		for i := 0; i < len(chunk); i += 4096 {
			chunk[i] = 1
		}
		hoard = append(hoard, chunk)
		fmt.Fprintf(os.Stderr, "allocated %d MiB\n", n)
	}
	return len(hoard) * 8
}

// readEnviron reads an environ file and fails if it holds the secret.
func readEnviron(path, secret string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if secret != "" && strings.Contains(string(b), secret) {
		return fmt.Errorf("read it, and the secret is in it")
	}
	return nil
}

func dial(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.Write([]byte("hello"))
	return err
}
