package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/plugboard/plugboard/daemon/runtime"
	"github.com/plugboard/plugboard/daemon/sandbox"
)

// contain makes cmd, a tool that may run the package's own code (pip
// building a source distribution runs its setup.py), start through the
// sandbox like the plugin will: it may write only the package's dir and a
// private temp dir (its HOME and caches), and read the system and the
// interpreter. The returned func removes the temp dir once cmd is done.
func contain(ctx context.Context, cmd *exec.Cmd, dir string, readOnly, readWrite []string) (func(), error) {
	tmp, err := os.MkdirTemp("", "plugboard-prepare-")
	if err != nil {
		return nil, err
	}
	done := func() { os.RemoveAll(tmp) }
	read := slices.Clone(readOnly)
	for i, name := range interpreters(cmd) {
		exe, paths, err := interpreterPaths(ctx, name)
		if err != nil {
			continue // not a Python: uv itself
		}
		if i == 0 {
			// The real interpreter, not a pyenv shim or a symlink in front
			// of it (sys.executable keeps a symlink's path).
			if real, err := filepath.EvalSymlinks(exe); err == nil {
				exe = real
			}
			cmd.Path = exe
		}
		read = append(read, paths...)
	}
	for _, d := range readWrite {
		if err := os.MkdirAll(d, 0o700); err != nil {
			done()
			return nil, err
		}
	}
	setup, err := sandbox.Plan(sandbox.Policy{Dir: dir, TempDir: tmp, ReadOnly: read, ReadWrite: readWrite}, cmd.Path)
	if err != nil {
		done()
		return nil, err
	}
	for _, d := range append([]string{dir, tmp}, readWrite...) {
		if err := setup.Own(d); err != nil {
			done()
			return nil, err
		}
	}
	cmd.Env = append(cmd.Env, "HOME="+tmp, "TMPDIR="+tmp)
	for _, v := range []string{"PIP_CACHE_DIR", "UV_CACHE_DIR"} {
		if !slices.ContainsFunc(cmd.Env, func(e string) bool { return strings.HasPrefix(e, v+"=") }) {
			cmd.Env = append(cmd.Env, v+"="+filepath.Join(tmp, strings.ToLower(strings.TrimSuffix(v, "_DIR"))))
		}
	}
	if err := setup.Wrap(cmd); err != nil {
		done()
		return nil, err
	}
	return done, nil
}

// interpreters lists the Pythons cmd uses: the program itself, and uv's
// --python argument.
func interpreters(cmd *exec.Cmd) []string {
	list := []string{cmd.Path}
	if i := slices.Index(cmd.Args, "--python"); i > 0 && i+1 < len(cmd.Args) {
		list = append(list, cmd.Args[i+1])
	}
	return list
}

// interpreterPaths asks a Python (with -I -S: nothing of a package runs)
// for its real executable and the dirs it reads: its prefixes and sys.path.
func interpreterPaths(ctx context.Context, python string) (string, []string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	script := "import sys, json; print(json.dumps([sys.executable, sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix] + sys.path))"
	if !strings.HasPrefix(filepath.Base(python), "python") {
		return "", nil, errors.New("not a Python interpreter") // uv itself
	}
	probe := exec.CommandContext(ctx, python, "-I", "-S", "-c", script)
	probe.Env = runtime.BaseEnv(os.TempDir()) // the plugins' scrubbed environment, nothing of the daemon's
	out, err := probe.Output()
	if err != nil {
		return "", nil, err
	}
	var all []string
	if err := json.Unmarshal(out, &all); err != nil || len(all) == 0 || all[0] == "" {
		return "", nil, fmt.Errorf("%s gave no executable and paths (%q): %v", python, out, err)
	}
	var paths []string
	for _, p := range all {
		if filepath.IsAbs(p) && !slices.Contains(paths, p) {
			paths = append(paths, p)
		}
	}
	if real, err := filepath.EvalSymlinks(all[0]); err == nil && !slices.Contains(paths, real) {
		paths = append(paths, real)
	}
	return all[0], paths, nil
}

// insideDir reports whether path lies inside dir.
func insideDir(path, dir string) bool {
	return strings.HasPrefix(path+"/", strings.TrimSuffix(dir, "/")+"/")
}
