package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/landlock-lsm/go-landlock/landlock"
	ll "github.com/landlock-lsm/go-landlock/landlock/syscall"
	"golang.org/x/sys/unix"
)

// The launcher runs before main (or a test binary's TestMain) of any binary
// that links this package, when the daemon started it through Wrap.
func init() {
	raw, ok := os.LookupEnv(envPolicy)
	if !ok {
		return
	}
	if raw == "probe" {
		os.Exit(0)
	}
	os.Exit(launch(raw))
}

// exitSetup is the launcher's exit code when it cannot contain the plugin.
const exitSetup = 125

var errNoPolicy = errors.New("sandbox: the launcher got no policy or no program to run")

// launch contains itself, starts the plugin and waits for it; it returns the
// plugin's exit code (128+N for signal N).
func launch(raw string) int {
	var p Policy
	if err := json.Unmarshal([]byte(raw), &p); err != nil || p.Dir == "" || len(os.Args) < 2 {
		return fail(errNoPolicy)
	}
	os.Unsetenv(envPolicy)
	// Every restriction below is per thread and inherited by the child,
	// which is forked from this same thread.
	runtime.LockOSThread()
	if err := restrict(p); err != nil {
		return fail(err)
	}
	cmd := exec.Command(os.Args[1], os.Args[2:]...)
	cmd.Args[0] = os.Args[1]
	cmd.Dir, cmd.Env = p.Dir, os.Environ()
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if p.UID != 0 {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(p.UID), Gid: uint32(p.UID), Groups: []uint32{}}
	}
	if err := cmd.Start(); err != nil {
		return fail(fmt.Errorf("cannot start %s: %w", os.Args[1], err))
	}
	return reap(cmd.Process.Pid, p.PIDNS)
}

func fail(err error) int {
	fmt.Fprintf(os.Stderr, "plugboard sandbox: %v\n", err)
	return exitSetup
}

// restrict applies the policy to the launcher's thread, in the order that
// still has the privileges each step needs.
func restrict(p Policy) error {
	for _, procs := range p.Cgroups {
		// "0" is the writer itself, whatever PID namespace it is in.
		if err := os.WriteFile(procs, []byte("0"), 0o644); err != nil {
			return fmt.Errorf("join cgroup %s: %w", filepath.Dir(procs), err)
		}
	}
	if err := mountNamespace(p); err != nil {
		return err
	}
	if p.RlimitData > 0 {
		lim := &unix.Rlimit{Cur: uint64(p.RlimitData), Max: uint64(p.RlimitData)}
		if err := unix.Setrlimit(unix.RLIMIT_DATA, lim); err != nil {
			return fmt.Errorf("set RLIMIT_DATA: %w", err)
		}
	}
	if !p.PIDNS {
		// Orphans are reparented to the launcher, which kills them with the plugin.
		if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
			return fmt.Errorf("become a subreaper: %w", err)
		}
	}
	return dropPrivileges(p)
}

// mountNamespace gives the namespace its own /proc and hides what the
// plugin must not see (nothing to do without namespaces).
func mountNamespace(p Policy) error {
	if !p.PIDNS {
		return nil
	}
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make mounts private: %w", err)
	}
	if err := unix.Mount("proc", "/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mount /proc: %w", err)
	}
	return hide(p)
}

// dropPrivileges empties the capability bounding set (as root), sets
// no_new_privs and applies Landlock.
func dropPrivileges(p Policy) error {
	if os.Geteuid() == 0 {
		if err := dropBoundingSet(); err != nil {
			return err
		}
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("set no_new_privs: %w", err)
	}
	if p.Landlock {
		return landlockSelf(p)
	}
	return nil
}

// hide covers the policy's hidden dirs, and the dirs on the way to a needed
// path that the plugin's uid could not search, with an empty tmpfs, and
// binds the needed paths inside them back (read-only, but for the working
// and temp dirs).
func hide(p Policy) error {
	writable := append([]string{p.Dir, p.TempDir}, p.ReadWrite...)
	needed := append(append([]string{}, writable...), os.Args[1])
	needed = append(needed, p.ReadOnly...)
	covers := append([]string{}, p.Hide...)
	if p.UID != 0 {
		for _, n := range needed {
			if a := blockedAncestor(n); a != "" {
				covers = append(covers, a)
			}
		}
	}
	for _, c := range outermost(covers, needed) {
		if err := cover(c, needed, writable); err != nil {
			return err
		}
	}
	return nil
}

// outermost drops the covers inside another cover, or equal to or inside
// a needed path (those must stay visible), or holding a system dir (a data
// dir of "/" hides nothing).
func outermost(covers, needed []string) []string {
	var out []string
	for _, c := range covers {
		c = filepath.Clean(c)
		keep := !slices.ContainsFunc(systemDirs, func(d string) bool { return within(d, c) })
		for _, o := range append(append([]string{}, covers...), needed...) {
			o = filepath.Clean(o)
			if o != c && within(c, o) || c == o && slices.Contains(needed, o) {
				keep = false
			}
		}
		if keep && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// within reports whether path is dir or lies inside it.
func within(path, dir string) bool {
	return path == dir || strings.HasPrefix(path, strings.TrimSuffix(dir, "/")+"/")
}

// insideAnother reports whether path lies inside another of the paths
// (binding that one back brings it along).
func insideAnother(path string, paths []string) bool {
	for _, p := range paths {
		if p = filepath.Clean(p); p != path && within(path, p) {
			return true
		}
	}
	return false
}

// bind is a needed path to bind back into a cover, held open (O_PATH)
// from before the cover hid it.
type bind struct {
	path string
	fd   int
	file bool
	ro   bool
}

// cover mounts an empty tmpfs on dir and binds back the needed paths in it.
func cover(dir string, needed, writable []string) error {
	var binds []bind
	defer func() {
		for _, b := range binds {
			unix.Close(b.fd)
		}
	}()
	for _, n := range needed {
		n = filepath.Clean(n)
		if n == dir || !within(n, dir) || insideAnother(n, needed) {
			continue
		}
		fd, err := unix.Open(n, unix.O_PATH|unix.O_CLOEXEC, 0)
		if err != nil {
			continue // missing: nothing to bind back
		}
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			unix.Close(fd)
			return err
		}
		binds = append(binds, bind{n, fd, st.Mode&unix.S_IFMT != unix.S_IFDIR, !slices.Contains(writable, n)})
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0755,size=1m"); err != nil {
		return fmt.Errorf("hide %s: %w", dir, err)
	}
	for _, b := range binds {
		if err := b.mount(); err != nil {
			return err
		}
	}
	// The tmpfs itself is never written to again.
	return unix.Mount("", dir, "", unix.MS_REMOUNT|unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV, "mode=0755,size=1m")
}

// mount makes the bind's mount point in the cover and binds the path there.
func (b bind) mount() error {
	if err := os.MkdirAll(filepath.Dir(b.path), 0o755); err != nil {
		return err
	}
	if b.file {
		f, err := os.OpenFile(b.path, os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		f.Close()
	} else if err := os.MkdirAll(b.path, 0o755); err != nil {
		return err
	}
	src := fmt.Sprintf("/proc/self/fd/%d", b.fd)
	if err := unix.Mount(src, b.path, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind %s back: %w", b.path, err)
	}
	if !b.ro {
		return nil
	}
	if err := unix.Mount("", b.path, "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV, ""); err != nil {
		return fmt.Errorf("make %s read-only: %w", b.path, err)
	}
	return nil
}

// dropBoundingSet empties the capability bounding set, so that a plugin
// running as root gains no capability when it execs.
func dropBoundingSet() error {
	for c := 0; c <= unix.CAP_LAST_CAP; c++ {
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0); err != nil && err != unix.EINVAL {
			return fmt.Errorf("drop capability %d: %w", c, err)
		}
	}
	return nil
}

// System paths every plugin may read and execute.
var systemDirs = []string{"/usr", "/opt", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/proc", "/sys"}

// systemFiles are the files of /etc a program commonly needs (name service,
// TLS roots, time zones, the dynamic linker, the distribution's name): a
// plugin that runs as root (without capabilities, but still the owner of
// /etc/shadow) reads only these. Under a dedicated uid it reads all of /etc,
// where file modes keep the secrets.
var systemFiles = []string{
	"/etc/debian_version", "/etc/lsb-release", "/etc/issue", "/etc/pip.conf", "/etc/xdg",
	"/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/timezone",
	"/etc/resolv.conf", "/etc/hosts", "/etc/host.conf", "/etc/nsswitch.conf", "/etc/gai.conf",
	"/etc/services", "/etc/protocols", "/etc/passwd", "/etc/group", "/etc/mime.types",
	"/etc/ssl", "/etc/ca-certificates", "/etc/pki", "/etc/os-release", "/etc/alternatives",
}

// devices are the character devices a plugin may open.
var devices = []string{"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty"}

// landlockSelf restricts the launcher's thread (and so the plugin) to the
// policy's paths, and scopes signals and abstract sockets to its domain.
// The network is not restricted: a plugin that needs it keeps it.
func landlockSelf(p Policy) error {
	cfg := landlock.Config{
		HandledAccessFS: landlock.V11.HandledAccessFS,
		Scoped:          landlock.V11.Scoped,
	}.BestEffort()
	etc := systemFiles
	if p.UID != 0 {
		etc = []string{"/etc"}
	}
	dirs, files := split(slices.Concat(systemDirs, etc, []string{os.Args[1]}, p.ReadOnly))
	rules := []landlock.Rule{
		landlock.RWFiles(devices...).WithIoctlDev().IgnoreIfMissing(),
		landlock.RWDirs(append([]string{p.Dir, p.TempDir}, p.ReadWrite...)...).WithRefer(),
	}
	if len(dirs) > 0 {
		rules = append(rules, landlock.RODirs(dirs...))
	}
	if len(files) > 0 {
		rules = append(rules, landlock.ROFiles(files...))
	}
	fd, flags, err := cfg.NewRulesetFD(rules...)
	if err != nil {
		return fmt.Errorf("landlock ruleset: %w", err)
	}
	if fd < 0 {
		return nil
	}
	defer unix.Close(fd)
	if err := ll.LandlockRestrictSelf(fd, flags); err != nil {
		return fmt.Errorf("landlock: %w", err)
	}
	return nil
}

// split sorts the paths that exist into directories and other files (a
// rule must not give a file directory rights).
func split(paths []string) (dirs, files []string) {
	for _, p := range paths {
		info, err := os.Stat(p)
		switch {
		case err != nil:
		case info.IsDir():
			dirs = append(dirs, p)
		default:
			files = append(files, p)
		}
	}
	return dirs, files
}

// reap waits for the plugin, reaping every orphan reparented to the
// launcher meanwhile, and returns the plugin's exit code. In a PID namespace
// the launcher's exit kills what is left; as a subreaper it kills it itself.
func reap(child int, pidns bool) int {
	code, ended := exitSetup, false
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, 0, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil { // ECHILD: nothing left
			return code
		}
		if pid == child {
			code, ended = ws.ExitStatus(), true
			if ws.Signaled() {
				code = 128 + int(ws.Signal())
			}
			if pidns {
				return code
			}
		}
		if ended {
			killChildren()
		}
	}
}

// killChildren kills the launcher's remaining children; their own children
// are reparented to it in turn and killed on the next pass of reap.
func killChildren() {
	self := strconv.Itoa(os.Getpid())
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if f := strings.Fields(s[i+1:]); i > 0 && len(f) > 1 && f[1] == self {
			if pid, err := strconv.Atoi(e.Name()); err == nil {
				_ = unix.Kill(pid, unix.SIGKILL)
			}
		}
	}
}
