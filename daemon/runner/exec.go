package runner

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/plugboard/plugboard/daemon/errs"
)

// tailBytes is how much of a tool's output is kept for its error message.
const tailBytes = 4 << 10

// run runs a tool in dir, streaming its output to log; a failure is an
// errs.Invalid error "<what> failed: <tail of its output>". Cancelling ctx
// kills the tool's whole process group.
func run(ctx context.Context, log io.Writer, dir, what, name string, args ...string) error {
	tail := &tailBuffer{}
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PIP_DISABLE_PIP_VERSION_CHECK=1", "PIP_NO_INPUT=1")
	cmd.Stdout = io.MultiWriter(log, tail)
	cmd.Stderr = cmd.Stdout
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	fmt.Fprintf(log, "$ %s %s\n", name, strings.Join(args, " "))
	done, err := contain(ctx, cmd, dir)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer done()
	err = cmd.Run()
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return fmt.Errorf("%s stopped: %w", what, ctx.Err())
	}
	msg := lastLines(tail.String(), 8)
	if msg == "" {
		msg = err.Error()
	}
	return errs.Errorf(errs.Invalid, "%s failed: %s", what, msg)
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
