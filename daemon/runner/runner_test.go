package runner_test

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/runner"
)

// offline never reaches a package index: every test installs with --no-index.
var offline = runner.Options{Offline: true}

func manifest(lang, version, entry string, arch ...string) *plugboard.Manifest {
	m := &plugboard.Manifest{Author: "acme", Name: "x", Version: "0.0.1"}
	m.Meta.Arch = arch
	m.Meta.Runner = plugboard.Runner{Language: lang, Version: version, Entrypoint: entry}
	return m
}

func otherArch() string {
	if goruntime.GOARCH == "amd64" {
		return "arm64"
	}
	return "amd64"
}

// MustWrite writes files (path → content) under dir.
func MustWrite(tb testing.TB, dir string, files map[string]string) {
	tb.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
}

// wantErr fails unless err has the code and contains every part.
func wantErr(tb testing.TB, err error, code string, parts ...string) {
	tb.Helper()
	if err == nil {
		tb.Fatalf("got no error, want %s error containing %q", code, parts)
	}
	if got := plugboard.ErrorCode(err); got != code {
		tb.Errorf("error code = %s, want %s (error: %v)", got, code, err)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			tb.Errorf("error %q does not contain %q", err, p)
		}
	}
}

func TestCheck(t *testing.T) {
	t.Run("OKBinary", func(t *testing.T) {
		if err := runner.Check(manifest("binary", "", "tool", "amd64", "arm64"), offline); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("OKPython", func(t *testing.T) {
		if err := runner.Check(manifest("python", "3.8", "main", "amd64"), offline); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("ErrUnknownRunner", func(t *testing.T) {
		err := runner.Check(manifest("ruby", "", "main", "amd64"), offline)
		wantErr(t, err, plugboard.EINVALID, "meta.runner.language", `"ruby"`)
	})
	t.Run("ErrArch", func(t *testing.T) {
		err := runner.Check(manifest("binary", "", "tool", otherArch()), offline)
		wantErr(t, err, plugboard.EINVALID, "package supports "+otherArch()+" only; this host is "+goruntime.GOARCH)
	})
	t.Run("ErrPythonTooOld", func(t *testing.T) {
		err := runner.Check(manifest("python", "3.99", "main", "amd64"), offline)
		wantErr(t, err, plugboard.EINVALID, "package needs Python 3.99", "this host has 3.", "--python or PLUGBOARD_PYTHON")
	})
	t.Run("ErrPythonVersion", func(t *testing.T) {
		err := runner.Check(manifest("python", "three", "main", "amd64"), offline)
		wantErr(t, err, plugboard.EINVALID, "meta.runner.version", `"three"`)
	})
	t.Run("ErrNoInterpreter", func(t *testing.T) {
		t.Setenv("PATH", t.TempDir())
		t.Setenv("PYENV_ROOT", t.TempDir())
		t.Setenv("UV_PYTHON_INSTALL_DIR", t.TempDir())
		opt := runner.Options{Pythons: []string{filepath.Join(t.TempDir(), "python9")}, UV: "off"}
		err := runner.Check(manifest("python", "3.10", "main", "amd64"), opt)
		wantErr(t, err, plugboard.EINVALID, "package needs Python 3.10", "this host has no Python 3 interpreter", "PLUGBOARD_PYTHON")
	})
}

func TestStartTimeout(t *testing.T) {
	if got := runner.StartTimeout(manifest("python", "3.10", "main")); got != 120*time.Second {
		t.Errorf("python start timeout = %v, want 120s", got)
	}
	if got := runner.StartTimeout(manifest("binary", "", "tool")); got != 10*time.Second {
		t.Errorf("binary start timeout = %v, want 10s", got)
	}
}

func TestPrepareBinary(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		dir := t.TempDir()
		rel := filepath.Join("bin", goruntime.GOARCH, "tool")
		MustWrite(t, dir, map[string]string{rel: "#!/bin/sh\necho hello from tool\n"})
		prep, err := runner.Prepare(context.Background(), manifest("binary", "", "tool", goruntime.GOARCH), dir, offline)
		if err != nil {
			t.Fatal(err)
		}
		cmd := prep.Command
		if prep.Python != nil {
			t.Errorf("a binary package has Python %+v", prep.Python)
		}
		if want := filepath.Join(dir, rel); len(cmd) != 1 || cmd[0] != want {
			t.Fatalf("command = %q, want [%q]", cmd, want)
		}
		out, err := exec.Command(cmd[0]).Output()
		if err != nil || string(out) != "hello from tool\n" {
			t.Fatalf("running the binary: %q, %v", out, err)
		}
	})
	t.Run("ErrMissingForArch", func(t *testing.T) {
		dir := t.TempDir()
		MustWrite(t, dir, map[string]string{filepath.Join("bin", otherArch(), "tool"): "#!/bin/sh\n"})
		_, err := runner.Prepare(context.Background(), manifest("binary", "", "tool", goruntime.GOARCH, otherArch()), dir, offline)
		wantErr(t, err, plugboard.EINVALID, filepath.Join("bin", goruntime.GOARCH, "tool")+" is missing")
	})
	t.Run("ErrArch", func(t *testing.T) {
		_, err := runner.Prepare(context.Background(), manifest("binary", "", "tool", otherArch()), t.TempDir(), offline)
		wantErr(t, err, plugboard.EINVALID, "this host is "+goruntime.GOARCH)
	})
	t.Run("ErrEntrypointPath", func(t *testing.T) {
		_, err := runner.Prepare(context.Background(), manifest("binary", "", "../tool", goruntime.GOARCH), t.TempDir(), offline)
		wantErr(t, err, plugboard.EINVALID, "meta.runner.entrypoint", `"../tool"`)
	})
}

// MustPrepare prepares a python package in dir and returns its command.
func MustPrepare(tb testing.TB, dir string) []string {
	tb.Helper()
	var log strings.Builder
	opt := offline
	opt.Log = &log
	prep, err := runner.Prepare(context.Background(), manifest("python", "3.8", "main", goruntime.GOARCH), dir, opt)
	if err != nil {
		tb.Fatalf("prepare: %v\noutput:\n%s", err, log.String())
	}
	cmd := prep.Command
	if prep.Python == nil || !strings.HasPrefix(prep.Python.Version, "3.") {
		tb.Errorf("prepared Python = %+v, want a 3.x interpreter", prep.Python)
	} else if got := runner.PythonOf(dir); got == nil || *got != *prep.Python {
		tb.Errorf("PythonOf = %+v, want what Prepare returned, %+v", got, prep.Python)
	}
	if want := filepath.Join(dir, ".venv", "bin", "python"); len(cmd) != 3 || cmd[0] != want || cmd[1] != "-m" || cmd[2] != "main" {
		tb.Fatalf("command = %q, want [%s -m main]", cmd, want)
	}
	if again := runner.Command(manifest("python", "3.8", "main"), dir); !slices.Equal(again, cmd) {
		tb.Errorf("Command = %q, want what Prepare returned, %q", again, cmd)
	}
	return cmd
}

// MustRun runs cmd in dir and returns its output.
func MustRun(tb testing.TB, dir string, cmd []string) string {
	tb.Helper()
	c := exec.Command(cmd[0], cmd[1:]...)
	c.Dir = dir
	out, err := c.CombinedOutput()
	if err != nil {
		tb.Fatalf("%q: %v\n%s", cmd, err, out)
	}
	return string(out)
}

// MustWheel writes a minimal pure-Python wheel of module name (VALUE = value)
// into dir/wheels.
func MustWheel(tb testing.TB, dir, name, value string) {
	tb.Helper()
	MustWheelIn(tb, filepath.Join(dir, "wheels"), name, value)
}

// MustWheelIn writes the wheel of MustWheel into folder and returns its path.
func MustWheelIn(tb testing.TB, folder, name, value string) string {
	tb.Helper()
	info := name + "-1.0.dist-info/"
	files := [][2]string{
		{name + "/__init__.py", "VALUE = " + value + "\n"},
		{info + "METADATA", "Metadata-Version: 2.1\nName: " + name + "\nVersion: 1.0\n"},
		{info + "WHEEL", "Wheel-Version: 1.0\nGenerator: runner_test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"},
	}
	var record strings.Builder
	for _, f := range files {
		sum := sha256.Sum256([]byte(f[1]))
		fmt.Fprintf(&record, "%s,sha256=%s,%d\n", f[0], base64.RawURLEncoding.EncodeToString(sum[:]), len(f[1]))
	}
	record.WriteString(info + "RECORD,,\n")
	files = append(files, [2]string{info + "RECORD", record.String()})

	if err := os.MkdirAll(folder, 0o755); err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(folder, name+"-1.0-py3-none-any.whl")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	zw := zip.NewWriter(f)
	for _, file := range files {
		w, err := zw.Create(file[0])
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := w.Write([]byte(file[1])); err != nil {
			tb.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return path
}

func TestPreparePython(t *testing.T) {
	t.Run("OKStdlib", func(t *testing.T) {
		dir := t.TempDir()
		MustWrite(t, dir, map[string]string{"main.py": "import sys\nprint('prefix', sys.prefix)\n"})
		out := MustRun(t, dir, MustPrepare(t, dir))
		if want := "prefix " + filepath.Join(dir, ".venv"); strings.TrimSpace(out) != want {
			t.Errorf("output = %q, want %q (the venv's python)", out, want)
		}
	})
	t.Run("OKWheelFromRequirements", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		MustWrite(t, dir, map[string]string{
			"main.py":          "import tinydep\nprint(tinydep.VALUE)\n",
			"requirements.txt": "# offline\ntinydep==1.0\n",
		})
		MustWheel(t, dir, "tinydep", "42")
		if out := MustRun(t, dir, MustPrepare(t, dir)); strings.TrimSpace(out) != "42" {
			t.Errorf("output = %q, want 42", out)
		}
	})
	t.Run("OKWheelFromPyproject", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		MustWrite(t, dir, map[string]string{
			"main.py":        "import tinydep\nprint(tinydep.VALUE)\n",
			"pyproject.toml": "[project]\nname = \"x\"\nversion = \"0.1\"\ndependencies = [\"tinydep>=1\"]\n",
		})
		MustWheel(t, dir, "tinydep", "7")
		if out := MustRun(t, dir, MustPrepare(t, dir)); strings.TrimSpace(out) != "7" {
			t.Errorf("output = %q, want 7", out)
		}
	})
	t.Run("ErrMissingDependency", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		MustWrite(t, dir, map[string]string{"main.py": "", "requirements.txt": "no-such-dependency-plugboard==1.0\n"})
		_, err := runner.Prepare(context.Background(), manifest("python", "3.8", "main"), dir, offline)
		wantErr(t, err, plugboard.EINVALID, "Dependency no-such-dependency-plugboard==1.0 could not be installed: no matching version in no wheel folder or index (offline)",
			"wheels/ folder", "--python-find-links", "--python-index-url", "full output is in the plugin's log")
		if msg := err.Error(); strings.Contains(msg, "\n") || strings.Contains(msg, "ERROR:") {
			t.Errorf("error is not one sentence: %q", msg)
		}
	})
	t.Run("ErrBadPyproject", func(t *testing.T) {
		dir := t.TempDir()
		MustWrite(t, dir, map[string]string{"main.py": "", "pyproject.toml": "[project\n"})
		_, err := runner.Prepare(context.Background(), manifest("python", "3.8", "main"), dir, offline)
		wantErr(t, err, plugboard.EINVALID, "pyproject.toml")
	})
	t.Run("ErrNoEntrypoint", func(t *testing.T) {
		_, err := runner.Prepare(context.Background(), manifest("python", "3.8", "main"), t.TempDir(), offline)
		wantErr(t, err, plugboard.EINVALID, `entrypoint module "main"`, "main.py")
	})
	t.Run("ErrCancelled", func(t *testing.T) {
		dir := t.TempDir()
		MustWrite(t, dir, map[string]string{"main.py": ""})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := runner.Prepare(ctx, manifest("python", "3.8", "main"), dir, offline); err == nil {
			t.Fatal("prepare with a cancelled context succeeded")
		}
	})
}

func execCommand(cmd []string) *exec.Cmd { return exec.Command(cmd[0], cmd[1:]...) }
