package runner

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// tailBytes is how much of a tool's output is kept for its error message.
const tailBytes = 64 << 10

// session runs venv, pip and uv for one package directory, all with the
// same hermetic environment, their whole output going to log and each line
// of it to onLine.
type session struct {
	dir    string
	env    []string
	log    io.Writer
	onLine func(line string)
	// readOnly and readWrite are the shared folders the contained tools may
	// use besides the package dir: the admin's wheel folders, and the pip and
	// uv cache every plugin's build shares.
	readOnly, readWrite []string
}

// toolError is a tool that ran and failed; tail is the end of its output.
type toolError struct {
	what string
	tail string
	err  error
}

func (e *toolError) Error() string {
	if l := lastLines(e.tail, 1); l != "" {
		return e.what + " failed: " + l
	}
	return e.what + " failed: " + e.err.Error()
}

// run runs a tool in the session's dir. A failure is a *toolError, or the
// context's error when ctx ended; cancelling ctx kills the tool's whole
// process group.
func (s *session) run(ctx context.Context, what, name string, args ...string) error {
	tail := &tailBuffer{}
	lines := &lineWriter{fn: s.onLine}
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir, cmd.Env = s.dir, s.env
	cmd.Stdout = io.MultiWriter(s.log, tail, lines)
	cmd.Stderr = cmd.Stdout
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	fmt.Fprintf(s.log, "$ %s\n", redactedCommand(name, args))
	done, err := contain(ctx, cmd, s.dir, s.readOnly, s.readWrite)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer done()
	err = cmd.Run()
	lines.flush()
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return context.Cause(ctx)
	}
	return &toolError{what: what, tail: tail.String(), err: err}
}

// redactedCommand is the command line as logged: passwords in URLs hidden.
func redactedCommand(name string, args []string) string {
	out := []string{name}
	for _, a := range args {
		out = append(out, redactURL(a))
	}
	return strings.Join(out, " ")
}

// tailBuffer keeps the last tailBytes written to it.
type tailBuffer struct{ b []byte }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if over := len(t.b) - tailBytes; over > 0 {
		t.b = append(t.b[:0], t.b[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return string(t.b) }

// lineWriter calls fn with each complete line written to it.
type lineWriter struct {
	fn  func(string)
	buf []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexAny(w.buf, "\r\n")
		if i < 0 {
			break
		}
		if w.fn != nil && i > 0 {
			w.fn(string(w.buf[:i]))
		}
		w.buf = w.buf[i+1:]
	}
	if len(w.buf) > tailBytes { // a line without end: drop it
		w.buf = w.buf[:0]
	}
	return len(p), nil
}

func (w *lineWriter) flush() {
	if len(w.buf) > 0 && w.fn != nil {
		w.fn(string(w.buf))
	}
	w.buf = nil
}

// lastLines returns the last n non-blank lines of s, joined by newlines.
func lastLines(s string, n int) string {
	var out []string
	lines := strings.Split(s, "\n")
	for i := len(lines) - 1; i >= 0 && len(out) < n; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" {
			out = append([]string{l}, out...)
		}
	}
	return strings.Join(out, "\n")
}
