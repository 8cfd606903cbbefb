package runtime

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// cgroupRoot is where plugin cgroups are made (cgroup v2 only).
const cgroupRoot = "/sys/fs/cgroup"

var (
	cgroupSeq    atomic.Uint64
	unsafeCgName = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)
)

// cgroup is a cgroup v2 directory enforcing one instance's memory.max. A nil
// *cgroup is valid and does nothing.
type cgroup struct {
	dir string
	fd  *os.File
}

// CgroupsUsable reports whether memory limits can be enforced with cgroup v2
// here (otherwise the /proc watchdog enforces them).
func CgroupsUsable() bool {
	dir, err := cgroupParent()
	if err != nil {
		return false
	}
	probe := filepath.Join(dir, fmt.Sprintf("probe-%d-%d", os.Getpid(), cgroupSeq.Add(1)))
	if err := os.Mkdir(probe, 0o755); err != nil {
		return false
	}
	defer os.Remove(probe)
	_, err = os.Stat(filepath.Join(probe, "memory.max"))
	return err == nil
}

// cgroupParent makes /sys/fs/cgroup/plugboard with the memory controller
// enabled for its children.
func cgroupParent() (string, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(cgroupRoot, &st); err != nil || st.Type != unix.CGROUP2_SUPER_MAGIC {
		return "", fmt.Errorf("%s is not a cgroup v2 mount", cgroupRoot)
	}
	if err := enableMemory(cgroupRoot); err != nil {
		return "", err
	}
	dir := filepath.Join(cgroupRoot, "plugboard")
	if err := os.Mkdir(dir, 0o755); err != nil && !os.IsExist(err) {
		return "", err
	}
	return dir, enableMemory(dir)
}

func enableMemory(dir string) error {
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.subtree_control"))
	if err != nil {
		return err
	}
	if bytes.Contains(b, []byte("memory")) {
		return nil
	}
	return os.WriteFile(filepath.Join(dir, "cgroup.subtree_control"), []byte("+memory"), 0o644)
}

// attachCgroup makes a cgroup with spec's memory limit and arranges for cmd
// to start inside it. It returns nil (watchdog enforcement) when there is no
// limit or cgroups are not usable.
func attachCgroup(cmd *exec.Cmd, spec Spec, log *slog.Logger) *cgroup {
	if spec.MemoryLimit <= 0 {
		return nil
	}
	parent, err := cgroupParent()
	if err != nil {
		return nil
	}
	name := fmt.Sprintf("%s-%d-%d", unsafeCgName.ReplaceAllString(spec.Key, "_"), os.Getpid(), cgroupSeq.Add(1))
	cg := &cgroup{dir: filepath.Join(parent, truncateName(name))}
	if err := cg.create(spec.MemoryLimit); err != nil {
		log.Debug("cgroup memory limit unavailable; using the watchdog", "plugin", spec.PluginID, "error", err)
		cg.remove()
		return nil
	}
	cmd.SysProcAttr.UseCgroupFD, cmd.SysProcAttr.CgroupFD = true, int(cg.fd.Fd())
	return cg
}

func truncateName(s string) string {
	if len(s) > 200 {
		return s[len(s)-200:]
	}
	return s
}

func (cg *cgroup) create(limit int64) error {
	if err := os.Mkdir(cg.dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(cg.dir, "memory.max"), []byte(strconv.FormatInt(limit, 10)), 0o644); err != nil {
		return err
	}
	// Kill the whole group on OOM, so the plugin restarts cleanly instead of
	// limping on without the process the kernel chose.
	_ = os.WriteFile(filepath.Join(cg.dir, "memory.oom.group"), []byte("1"), 0o644)
	_ = os.WriteFile(filepath.Join(cg.dir, "memory.swap.max"), []byte("0"), 0o644)
	fd, err := os.Open(cg.dir)
	cg.fd = fd
	return err
}

// current returns the cgroup's memory use.
func (cg *cgroup) current() (int64, bool) {
	if cg == nil {
		return 0, false
	}
	b, err := os.ReadFile(filepath.Join(cg.dir, "memory.current"))
	if err != nil {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	return n, err == nil
}

// oomKilled reports whether the kernel killed a process of the cgroup for
// exceeding memory.max.
func (cg *cgroup) oomKilled() bool {
	if cg == nil {
		return false
	}
	b, err := os.ReadFile(filepath.Join(cg.dir, "memory.events"))
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "oom_kill" && f[1] != "0" {
			return true
		}
	}
	return false
}

// remove deletes the cgroup (its processes must be gone).
func (cg *cgroup) remove() {
	if cg == nil {
		return
	}
	if cg.fd != nil {
		_ = cg.fd.Close()
	}
	// The last processes may still be exiting; rmdir fails until they are gone.
	for range 20 {
		if err := os.Remove(cg.dir); err == nil || os.IsNotExist(err) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}
