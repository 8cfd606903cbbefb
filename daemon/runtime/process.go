package runtime

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/sandbox"
)

// stderrTailLines is how many of the latest stderr lines an instance keeps
// for error messages.
const stderrTailLines = 5

// drainWait bounds how long an exited instance waits for its output pipes to
// reach EOF (a grandchild outside the group could hold them open).
const drainWait = time.Second

// instance is one run of a plugin's process.
type instance struct {
	spec    Spec
	cmd     *exec.Cmd
	pid     int
	started time.Time
	conn    *conn
	stdin   *os.File
	cg      *cgroup // nil when the memory limit is watched from /proc
	tmp     string  // the private temp dir, removed when the process ends
	// containment says what contains the process, for its status.
	containment string

	exited  chan struct{} // closed once the process is reaped and its output drained
	exitErr error         // from Wait; read after exited

	reason atomic.Pointer[string] // why the daemon killed it, if it did
	memory atomic.Int64           // resident bytes at the last poll

	tailMu sync.Mutex
	tail   []string // the latest stderr lines
}

// scrubbedEnv builds the plugin's environment: a few harmless variables from
// the daemon's, the plugin's own settings, and spec.Env.
func scrubbedEnv(spec Spec) []string {
	path := os.Getenv("PATH")
	if path == "" {
		path = "/usr/local/bin:/usr/bin:/bin"
	}
	env := []string{"PATH=" + path, "HOME=" + spec.Dir}
	for _, k := range []string{"LANG", "TZ", "TMPDIR"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	env = append(env, "INSTALL_METHOD=local", "PYTHONUNBUFFERED=1")
	if spec.MemoryLimit > 0 {
		// A Go plugin's runtime collects harder as it nears three quarters of
		// its limit instead of growing into the kill; other languages ignore it.
		env = append(env, fmt.Sprintf("GOMEMLIMIT=%d", spec.MemoryLimit/4*3))
	}
	return append(env, spec.Env...)
}

// tempPrefix starts the name of a plugin's private temp dir, followed by
// the daemon's pid (so that sweepLeftovers can tell whose it is).
const tempPrefix = "plugboard-plugin-"

// startProcess execs the plugin, contained (see package sandbox), in its own
// process group with piped stdio and starts the goroutines that read its
// output and reap it.
func startProcess(spec Spec, cfg Config, ring *logRing) (*instance, error) {
	inst := &instance{spec: spec, exited: make(chan struct{})}
	cmd, err := inst.command(cfg)
	if err != nil {
		inst.cleanup()
		return nil, plugboard.Errorf(plugboard.EINVALID, "plugin %s: cannot start %q: %v", spec.PluginID, spec.Command[0], err)
	}
	inR, inW, err := os.Pipe()
	if err != nil {
		inst.cleanup()
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inst.cleanup()
		closeAll(inR, inW)
		return nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		inst.cleanup()
		closeAll(inR, inW, outR, outW)
		return nil, err
	}
	inst.stdin = inW
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, errW
	err = cmd.Start()
	closeAll(inR, outW, errW) // the child holds its own copies
	if err != nil {
		inst.cleanup()
		closeAll(inW, outR, errR)
		return nil, plugboard.Errorf(plugboard.EINVALID, "plugin %s: cannot start %q: %v", spec.PluginID, spec.Command[0], err)
	}
	inst.cmd, inst.pid, inst.started = cmd, cmd.Process.Pid, time.Now()
	inst.conn = newConn(spec.PluginID, outR, inW, cfg.MaxLineBytes, ring, cfg.Logger)
	inst.conn.withCallBacks(spec.Key, cfg)
	ring.add(sourceDaemon, "info", fmt.Sprintf("started %s (pid %d; %s)", strings.Join(spec.Command, " "), inst.pid, inst.containment))
	go inst.supervise(outR, errR, ring)
	return inst, nil
}

// command builds the plugin's command line, with a private temp dir, and
// contains it.
func (i *instance) command(cfg Config) (*exec.Cmd, error) {
	spec := i.spec
	cmd := exec.Command(spec.Command[0], spec.Command[1:]...)
	if cmd.Err != nil {
		return nil, cmd.Err
	}
	// The launcher would find out too, but only after it started.
	if info, err := os.Stat(cmd.Path); err != nil {
		return nil, err
	} else if info.IsDir() || info.Mode().Perm()&0o111 == 0 {
		return nil, fmt.Errorf("%s is not an executable file", cmd.Path)
	}
	tmp, err := os.MkdirTemp("", tempPrefix+strconv.Itoa(os.Getpid())+"-")
	if err != nil {
		return nil, err
	}
	i.tmp = tmp
	cmd.Dir, cmd.Env = spec.Dir, append(scrubbedEnv(spec), "TMPDIR="+tmp)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	return cmd, i.contain(cmd, cfg)
}

// contain wraps cmd in the sandbox with a cgroup for its memory and pids
// limits (or RLIMIT_DATA when there is none), and records what contains it.
func (i *instance) contain(cmd *exec.Cmd, cfg Config) error {
	spec := i.spec
	setup, err := sandbox.Plan(sandbox.Policy{Dir: spec.Dir, TempDir: i.tmp, ReadOnly: spec.ReadOnly, Hide: spec.Hide}, cmd.Path)
	if err != nil {
		return err
	}
	var join []string
	i.cg, join = attachCgroup(cmd, spec, cfg)
	limits := "no cgroup: memory watched every " + cfg.MemoryPoll.String()
	switch {
	case i.cg != nil:
		setup.Cgroups = join
		limits = i.cg.describe(spec.MemoryLimit)
	case spec.MemoryLimit > 0:
		// A hard ceiling the kernel enforces; the watchdog keeps the finer limit.
		setup.RlimitData = 2 * spec.MemoryLimit
		limits += ", RLIMIT_DATA " + mib(setup.RlimitData)
	}
	i.containment = setup.Active + "; " + limits
	for _, dir := range []string{spec.Dir, i.tmp} {
		if err := setup.Own(dir); err != nil {
			return fmt.Errorf("give %s to the plugin's uid: %w", dir, err)
		}
	}
	return setup.Wrap(cmd)
}

// cleanup removes what command made for a process that never started.
func (i *instance) cleanup() {
	i.cg.remove()
	if i.tmp != "" {
		_ = os.RemoveAll(i.tmp)
	}
}

func closeAll(files ...*os.File) {
	for _, f := range files {
		_ = f.Close()
	}
}

// supervise reads the process's output and reaps it: once the leader exits
// the whole group is killed, the pipes drained, and exited closed.
func (i *instance) supervise(outR, errR *os.File, ring *logRing) {
	stdoutDone := make(chan struct{})
	stderrDone := make(chan struct{})
	go func() { _ = i.conn.readLoop(); close(stdoutDone) }()
	go func() { i.readStderr(errR, ring); close(stderrDone) }()
	i.waitExit()
	i.killGroup()
	i.cg.kill()
	i.exitErr = i.cmd.Wait()
	_ = os.RemoveAll(i.tmp)
	timeout := time.After(drainWait)
	for _, ch := range []chan struct{}{stdoutDone, stderrDone} {
		select {
		case <-ch:
		case <-timeout:
		}
	}
	closeAll(outR, errR, i.stdin)
	close(i.exited)
}

// waitExit blocks until the leader has exited, without reaping it, so its
// pid (and so the group id) stays reserved while the group is killed.
func (i *instance) waitExit() {
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PID, i.pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if err != unix.EINTR {
			return
		}
	}
}

// killGroup sends SIGKILL to the plugin's whole process group.
func (i *instance) killGroup() {
	_ = unix.Kill(-i.pid, unix.SIGKILL)
}

// kill records why the daemon is stopping the process and kills its group.
func (i *instance) kill(reason string) {
	i.reason.CompareAndSwap(nil, &reason)
	i.killGroup()
}

// killReason is the reason given to kill, or "".
func (i *instance) killReason() string {
	if r := i.reason.Load(); r != nil {
		return *r
	}
	return ""
}

// readStderr copies stderr into the log ring line by line, keeping a tail
// for error messages.
func (i *instance) readStderr(f *os.File, ring *logRing) {
	br := bufio.NewReaderSize(f, 16<<10)
	for {
		line, err := br.ReadSlice('\n')
		for err == bufio.ErrBufferFull { // keep the start of an over-long line
			_, err = br.ReadSlice('\n')
		}
		if text := string(bytes.TrimRight(line, "\r\n")); text != "" {
			ring.add(sourceStderr, "info", text)
			i.addTail(text)
		}
		if err != nil {
			return
		}
	}
}

func (i *instance) addTail(line string) {
	i.tailMu.Lock()
	i.tail = append(i.tail, truncate(line, 500))
	if len(i.tail) > stderrTailLines {
		i.tail = i.tail[1:]
	}
	i.tailMu.Unlock()
}

// stderrTail returns the latest stderr lines (at most n).
func (i *instance) stderrTail(n int) []string {
	i.tailMu.Lock()
	defer i.tailMu.Unlock()
	if len(i.tail) > n {
		return append([]string(nil), i.tail[len(i.tail)-n:]...)
	}
	return append([]string(nil), i.tail...)
}

// exitStatus describes how the process ended: "exit status 2", "signal: killed".
func (i *instance) exitStatus() string {
	var ee *exec.ExitError
	if errors.As(i.exitErr, &ee) {
		// The launcher reports its plugin's death by signal N as 128+N.
		if sig, ok := sandbox.ExitSignal(ee.ExitCode()); ok {
			return "signal: " + sig.String()
		}
		return ee.ProcessState.String()
	}
	if i.exitErr != nil {
		return i.exitErr.Error()
	}
	return "exit status 0"
}

// withStderr appends the last stderr lines to msg, if there are any.
func (i *instance) withStderr(msg string, n int) string {
	tail := i.stderrTail(n)
	if len(tail) == 0 {
		return msg
	}
	return msg + ": " + strings.Join(tail, " | ")
}
