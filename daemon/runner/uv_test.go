package runner_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/plugboard/plugboard/daemon/runner"
)

// standInUV writes a uv stand-in (uv cannot be installed on this host): it
// records its arguments and environment in log, makes venvs with python -m
// venv and succeeds at everything else, printing what uv prints.
func standInUV(tb testing.TB, python, log string) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "uv")
	script := "#!/bin/sh\n" +
		"{ echo \"ARGS $*\"; env | sed 's/^/ENV /'; } >> " + log + "\n" +
		"case \"$1\" in\n" +
		"  venv) exec " + python + " -m venv --without-pip \"$4\" ;;\n" +
		"  python) exit 1 ;;\n" +
		"esac\n" +
		"echo 'Resolved 3 packages in 1ms'\n"
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		tb.Fatal(err)
	}
	return path
}

// TestPrepareUVLock: with uv and a uv.lock, the lock is installed the way
// Dify does, in the hermetic environment with the shared cache.
func TestPrepareUVLock(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3")
	}
	// The stand-in runs contained like uv: it may write the shared cache
	// (so it logs there) and run the real interpreter, not a pyenv shim.
	if out, err := exec.Command(python, "-c", "import sys; print(sys.executable)").Output(); err == nil {
		python = strings.TrimSpace(string(out))
	}
	cache := t.TempDir()
	log := filepath.Join(cache, "uv.log")
	t.Setenv("PYTHONPATH", "/leaked")
	t.Setenv("UV_INDEX_URL", "http://127.0.0.1:9/leaked")
	dir := t.TempDir()
	MustWrite(t, dir, map[string]string{
		"main.py":        "",
		"pyproject.toml": "[project]\nname = \"x\"\nversion = \"0.1\"\ndependencies = [\"dify_plugin>=0.10\"]\n",
		"uv.lock":        "version = 1\n",
	})
	var details []string
	opt := runner.Options{UV: standInUV(t, python, log), CacheDir: cache, Progress: func(d string) { details = append(details, d) }}
	MustPreparePy(t, dir, "3", opt)
	data, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	out := string(data)
	if !strings.Contains(out, "ARGS sync --frozen --no-dev --no-install-project --python "+filepath.Join(dir, ".venv", "bin", "python")) {
		t.Errorf("uv was not asked to sync the lock:\n%s", out)
	}
	for _, want := range []string{"ENV UV_CACHE_DIR=" + filepath.Join(cache, "uv"), "ENV UV_PROJECT_ENVIRONMENT=" + filepath.Join(dir, ".venv")} {
		if !strings.Contains(out, want) {
			t.Errorf("uv's environment lacks %s", want)
		}
	}
	for _, leak := range []string{"PYTHONPATH", "/leaked"} {
		if strings.Contains(out, leak) {
			t.Errorf("the daemon's %s reached uv:\n%s", leak, out)
		}
	}
	if !slices.Contains(details, "resolved 3 packages") {
		t.Errorf("progress %q lacks uv's \"resolved 3 packages\"", details)
	}
}
