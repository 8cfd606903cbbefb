// Package sandbox contains plugin processes with what Linux offers, without
// extra daemons: a Landlock ruleset (filesystem and IPC scopes), new PID and
// mount namespaces (a private /proc, and every process the plugin starts dies
// with it), a dedicated uid when the daemon runs as root, an empty capability
// bounding set, no_new_privs and PR_SET_PDEATHSIG.
//
// Go cannot run code between fork and exec, so Wrap rewrites a command to
// start our own executable as a small launcher (the daemon's binary, or a
// test binary: the launcher is this package's init hook, triggered by an
// environment variable). The launcher joins the cgroups it is given, mounts
// /proc, restricts itself and starts the plugin as its child; as the PID
// namespace's init it reaps orphans, and when the plugin exits it exits too,
// which makes the kernel kill every process left in the namespace. Where the
// kernel lacks a feature the launcher goes on without it, and Features says
// which ones are active.
package sandbox

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"

	ll "github.com/landlock-lsm/go-landlock/landlock/syscall"
)

// envPolicy carries the launcher's Policy; its presence makes this package's
// init run the launcher instead of the program.
const envPolicy = "PLUGBOARD_SANDBOX_POLICY"

// launcherName is the launcher's argv[0], so `ps` shows what it is.
const launcherName = "plugboard-sandbox"

// Policy is what a contained process may touch.
type Policy struct {
	Dir      string   `json:"dir"`          // read-write working directory
	TempDir  string   `json:"tmp"`          // read-write private temp dir
	ReadOnly []string `json:"ro,omitempty"` // extra read-only (and executable) paths
	// ReadWrite are shared writable dirs (the pip cache of every build);
	// processes given the same first one run as the same uid.
	ReadWrite []string `json:"rw,omitempty"`
	Cgroups   []string `json:"cg,omitempty"` // cgroup.procs files the launcher joins (cgroup v1)
	// RlimitData limits the data segment and private writable mappings, in
	// bytes; 0 for none.
	RlimitData int64 `json:"data,omitempty"`
	// Hide lists dirs the process must not see (the daemon's data dir): in
	// the mount namespace each is covered by an empty tmpfs in which only
	// the paths above that lie inside it are bound back.
	Hide     []string `json:"hide,omitempty"`
	UID      int      `json:"uid,omitempty"` // run as this uid and gid (0: keep the daemon's)
	Landlock bool     `json:"ll,omitempty"`
	PIDNS    bool     `json:"pidns,omitempty"` // the launcher is the init of new PID and mount namespaces
}

// Features is the containment this kernel and this daemon offer.
type Features struct {
	Landlock   int  // Landlock ABI version; 0 when unavailable
	Namespaces bool // new PID and mount namespaces can be made
	Root       bool // the daemon runs as root: dedicated uids, capabilities dropped
}

var (
	probeOnce sync.Once
	features  Features
)

// Probe reports the containment available here (probed once).
func Probe() Features {
	probeOnce.Do(func() {
		features.Root = os.Geteuid() == 0
		if v, err := ll.LandlockGetABIVersion(); err == nil {
			features.Landlock = v
		}
		features.Namespaces = probeNamespaces()
	})
	return features
}

// probeNamespaces starts the launcher in new namespaces once, doing nothing.
func probeNamespaces() bool {
	self, err := os.Executable()
	if err != nil {
		return false
	}
	cmd := exec.Command(self)
	cmd.Args = []string{launcherName}
	cmd.Env = []string{envPolicy + "=probe"}
	cmd.SysProcAttr = namespaceAttr()
	return cmd.Run() == nil
}

// String describes the features for the daemon's start log.
func (f Features) String() string {
	var parts []string
	if f.Landlock > 0 {
		parts = append(parts, fmt.Sprintf("landlock ABI %d", f.Landlock))
	} else {
		parts = append(parts, "no landlock (kernel lacks it)")
	}
	if f.Namespaces {
		parts = append(parts, "pid+mount namespaces")
	} else {
		parts = append(parts, "no namespaces (refused here; a subreaper kills leftovers)")
	}
	if f.Root {
		parts = append(parts, "dedicated uid, no capabilities")
	} else {
		parts = append(parts, "same uid as the daemon (not root)")
	}
	return strings.Join(parts, ", ")
}

// Setup is a policy ready to wrap commands with, and what it will give.
type Setup struct {
	Policy
	Active string // what is active, for the plugin's status: "landlock ABI 7, pid namespace, uid 1234567"
}

// Plan fills the policy's feature switches from what this host offers, picks
// the dedicated uid when the daemon is root and every path the process
// needs is reachable by another user (in a mount namespace the launcher
// makes them so), and describes the result. The uid is derived from p.Dir,
// so that installing and running a plugin agree on it. Paths are made
// absolute (the launcher starts in Dir). Cgroups and RlimitData are the
// caller's (memory and pids limits).
func Plan(p Policy, exe string) (Setup, error) {
	if err := absolute(&p, &exe); err != nil {
		return Setup{}, err
	}
	f := Probe()
	p.Landlock, p.PIDNS = f.Landlock > 0, f.Namespaces
	var active []string
	if p.Landlock {
		active = append(active, fmt.Sprintf("landlock ABI %d", f.Landlock))
	}
	if p.PIDNS {
		active = append(active, "pid+mount namespace")
		if len(p.Hide) > 0 {
			active = append(active, "data dir hidden")
		}
	} else {
		active = append(active, "subreaper")
	}
	p.UID = 0
	if f.Root {
		if p.PIDNS || reachable(slices.Concat([]string{p.Dir, p.TempDir, exe}, p.ReadOnly, p.ReadWrite)) {
			p.UID = pluginUID(p.Dir)
			if len(p.ReadWrite) > 0 {
				p.UID = pluginUID(p.ReadWrite[0]) // sharers of a dir share its owner
			}
			active = append(active, fmt.Sprintf("uid %d", p.UID))
		} else {
			active = append(active, "root without capabilities")
		}
	}
	active = append(active, "no_new_privs")
	return Setup{Policy: p, Active: strings.Join(active, ", ")}, nil
}

// absolute makes every path of p, and exe, absolute.
func absolute(p *Policy, exe *string) error {
	p.ReadOnly, p.ReadWrite, p.Hide = slices.Clone(p.ReadOnly), slices.Clone(p.ReadWrite), slices.Clone(p.Hide)
	paths := []*string{&p.Dir, &p.TempDir, exe}
	for i := range p.ReadOnly {
		paths = append(paths, &p.ReadOnly[i])
	}
	for i := range p.ReadWrite {
		paths = append(paths, &p.ReadWrite[i])
	}
	for i := range p.Hide {
		paths = append(paths, &p.Hide[i])
	}
	for _, path := range paths {
		abs, err := filepath.Abs(*path)
		if err != nil {
			return err
		}
		*path = abs
	}
	return nil
}

// uidBase and uidRange are where dedicated plugin uids are picked from: far
// above any uid a distribution hands out.
const (
	uidBase  = 1_900_000_000
	uidRange = 100_000_000
)

// pluginUID is the dedicated uid of the plugin in dir: stable across
// restarts, different for each plugin.
func pluginUID(dir string) int {
	h := fnv.New32a()
	h.Write([]byte(dir))
	return uidBase + int(h.Sum32()%uidRange)
}

// reachable reports whether a user other than the owner can reach every
// path: each ancestor directory must be searchable by others.
func reachable(paths []string) bool {
	for _, p := range paths {
		if p != "" && blockedAncestor(p) != "" {
			return false
		}
	}
	return true
}

// blockedAncestor is the outermost ancestor dir of path that others cannot
// search (mode without o+x), or "".
func blockedAncestor(path string) string {
	path = filepath.Clean(path)
	var dirs []string
	for dir := filepath.Dir(path); dir != path; path, dir = dir, filepath.Dir(dir) {
		dirs = append(dirs, dir)
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		if info, err := os.Stat(dirs[i]); err == nil && info.Mode().Perm()&0o001 == 0 {
			return dirs[i]
		}
	}
	return ""
}

// Own makes dir and everything in it owned by the setup's uid (a no-op when
// there is none), so the plugin can write its own working directory.
func (s Setup) Own(dir string) error {
	if s.UID == 0 {
		return nil
	}
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok && int(st.Uid) == s.UID && int(st.Gid) == s.UID {
			return nil
		}
		return os.Lchown(path, s.UID, s.UID)
	})
}

// Wrap rewrites cmd (built by exec.Command, with its SysProcAttr set) to
// start through the launcher under the setup's policy.
func (s Setup) Wrap(cmd *exec.Cmd) error {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("sandbox: cannot find the daemon's own executable: %w", err)
	}
	if cmd.Err != nil {
		return cmd.Err
	}
	raw, err := json.Marshal(s.Policy)
	if err != nil {
		return err
	}
	path, err := filepath.Abs(cmd.Path) // the launcher starts in Dir
	if err != nil {
		return err
	}
	cmd.Args = append([]string{launcherName, path}, cmd.Args[1:]...)
	cmd.Path = self
	cmd.Env = append(cmd.Env, envPolicy+"="+string(raw))
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL // the launcher dies with the daemon, the plugin with the launcher
	if s.PIDNS {
		ns := namespaceAttr()
		cmd.SysProcAttr.Cloneflags |= ns.Cloneflags
		cmd.SysProcAttr.UidMappings, cmd.SysProcAttr.GidMappings = ns.UidMappings, ns.GidMappings
	}
	return nil
}

// namespaceAttr asks for new PID and mount namespaces, inside a new user
// namespace when the daemon is not root.
func namespaceAttr() *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWPID | syscall.CLONE_NEWNS, Pdeathsig: syscall.SIGKILL}
	if os.Geteuid() != 0 {
		attr.Cloneflags |= syscall.CLONE_NEWUSER
		attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Geteuid(), Size: 1}}
		attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getegid(), Size: 1}}
	}
	return attr
}

// ExitSignal reads a launcher's exit code: the launcher exits 128+N when
// its plugin was killed by signal N.
func ExitSignal(code int) (syscall.Signal, bool) {
	if code > 128 && code < 128+65 {
		return syscall.Signal(code - 128), true
	}
	return 0, false
}
