package runner_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/plugboard/plugboard/daemon/runner"
)

// pyenvPython returns pyenv's interpreter of version prefix (e.g. "3.12."),
// skipping the test when this host has none.
func pyenvPython(tb testing.TB, prefix string) string {
	tb.Helper()
	root := os.Getenv("PYENV_ROOT")
	if root == "" {
		home, _ := os.UserHomeDir()
		root = filepath.Join(home, ".pyenv")
	}
	matches, _ := filepath.Glob(filepath.Join(root, "versions", prefix+"*", "bin", "python3"))
	if len(matches) == 0 {
		tb.Skipf("no pyenv Python %s* on this host", prefix)
	}
	return matches[0]
}

// isolate hides every interpreter of the host but those in dirs: PATH is
// dirs, pyenv and uv roots are empty.
func isolate(tb testing.TB, dirs ...string) {
	tb.Setenv("PATH", strings.Join(append(dirs, "/usr/bin", "/bin"), string(os.PathListSeparator)))
	tb.Setenv("PYENV_ROOT", tb.TempDir())
	tb.Setenv("UV_PYTHON_INSTALL_DIR", tb.TempDir())
}

// MustPreparePy prepares dir for a package wanting version with opt.
func MustPreparePy(tb testing.TB, dir, version string, opt runner.Options) *runner.Prepared {
	tb.Helper()
	var log strings.Builder
	opt.Log = &log
	prep, err := runner.Prepare(context.Background(), manifest("python", version, "main", goruntime.GOARCH), dir, opt)
	if err != nil {
		tb.Fatalf("prepare: %v\noutput:\n%s", err, log.String())
	}
	return prep
}

func TestInterpreterDiscovery(t *testing.T) {
	py312 := pyenvPython(t, "3.12.")
	py313 := pyenvPython(t, "3.13.")
	script := map[string]string{"main.py": "import sys\nprint('%d.%d' % sys.version_info[:2])\n"}

	t.Run("OKPyenv", func(t *testing.T) {
		dir := t.TempDir()
		MustWrite(t, dir, script)
		prep := MustPreparePy(t, dir, "3.12", runner.Options{Offline: true, UV: "off"})
		if prep.Python == nil || !strings.HasPrefix(prep.Python.Version, "3.12.") {
			t.Fatalf("Python = %+v, want 3.12.x (this host has pyenv's %s)", prep.Python, py312)
		}
		if out := MustRun(t, dir, prep.Command); strings.TrimSpace(out) != "3.12" {
			t.Errorf("the plugin runs on Python %q, want 3.12", out)
		}
	})
	t.Run("OKSymlinkOnPath", func(t *testing.T) {
		bin := t.TempDir()
		link := filepath.Join(bin, "python3.12")
		if err := os.Symlink(py312, link); err != nil {
			t.Fatal(err)
		}
		isolate(t, bin)
		dir := t.TempDir()
		MustWrite(t, dir, script)
		prep := MustPreparePy(t, dir, "3.12", runner.Options{Offline: true, UV: "off"})
		if prep.Python == nil || prep.Python.Path != link || prep.Python.Source != runner.SourcePath {
			t.Fatalf("Python = %+v, want %s from PATH", prep.Python, link)
		}
	})
	t.Run("OKConfigured", func(t *testing.T) {
		isolate(t)
		dir := t.TempDir()
		MustWrite(t, dir, script)
		opt := runner.Options{Pythons: []string{py312, py313}, Offline: true, UV: "off"}
		prep := MustPreparePy(t, dir, "3.13", opt)
		if prep.Python == nil || !strings.HasPrefix(prep.Python.Version, "3.13.") || prep.Python.Source != runner.SourceConfigured {
			t.Fatalf("Python = %+v, want the configured 3.13", prep.Python)
		}
	})
	t.Run("OKNewerWhenNoneOfTheMinor", func(t *testing.T) {
		isolate(t)
		dir := t.TempDir()
		MustWrite(t, dir, script)
		prep := MustPreparePy(t, dir, "3.12", runner.Options{Pythons: []string{py313}, Offline: true, UV: "off"})
		if prep.Python == nil || !strings.HasPrefix(prep.Python.Version, "3.13.") {
			t.Fatalf("Python = %+v, want the newer 3.13 when no 3.12 is there", prep.Python)
		}
	})
	t.Run("ErrNoneFits", func(t *testing.T) {
		isolate(t)
		err := runner.Check(manifest("python", "3.14", "main"), runner.Options{Pythons: []string{py312}, UV: "off"})
		ver := filepath.Base(filepath.Dir(filepath.Dir(py312))) // pyenv's folder is named for its version
		wantErr(t, err, "invalid", "package needs Python 3.14", ver+" ("+py312+")", "--python or PLUGBOARD_PYTHON")
	})
}

// simpleIndex serves a PEP 503 index of wheel files, counting downloads.
type simpleIndex struct {
	*httptest.Server
	mu        sync.Mutex
	files     map[string][]byte // wheel file name → content
	downloads atomic.Int32
}

func newSimpleIndex(tb testing.TB, wheels ...string) *simpleIndex {
	tb.Helper()
	ix := &simpleIndex{files: map[string][]byte{}}
	for _, w := range wheels {
		data, err := os.ReadFile(w)
		if err != nil {
			tb.Fatal(err)
		}
		ix.files[filepath.Base(w)] = data
	}
	ix.Server = httptest.NewServer(http.HandlerFunc(ix.serve))
	tb.Cleanup(ix.Close)
	return ix
}

func (ix *simpleIndex) serve(w http.ResponseWriter, r *http.Request) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if name, ok := strings.CutPrefix(r.URL.Path, "/files/"); ok {
		data, found := ix.files[name]
		if !found {
			http.NotFound(w, r)
			return
		}
		ix.downloads.Add(1)
		w.Header().Set("Cache-Control", "max-age=31536000, immutable")
		w.Write(data)
		return
	}
	project := strings.Trim(strings.TrimPrefix(r.URL.Path, "/simple/"), "/")
	var links strings.Builder
	for name, data := range ix.files {
		if strings.HasPrefix(name, project+"-") {
			sum := sha256.Sum256(data)
			fmt.Fprintf(&links, "<a href=\"/files/%s#sha256=%s\">%s</a>\n", name, hex.EncodeToString(sum[:]), name)
		}
	}
	if links.Len() == 0 {
		http.NotFound(w, r)
		return
	}
	fmt.Fprintf(w, "<!DOCTYPE html><html><body>\n%s</body></html>\n", links.String())
}

func TestPrepareSources(t *testing.T) {
	wheel := MustWheelIn(t, t.TempDir(), "tinydep", "42")
	plugin := map[string]string{"main.py": "import tinydep\nprint(tinydep.VALUE)\n", "requirements.txt": "tinydep==1.0\n"}

	t.Run("OKIndexURLWithSharedCache", func(t *testing.T) {
		ix := newSimpleIndex(t, wheel)
		opt := runner.Options{IndexURL: ix.URL + "/simple", CacheDir: t.TempDir(), UV: "off"}
		var details []string
		opt.Progress = func(d string) { details = append(details, d) }
		for i := range 2 { // two plugins sharing one cache fetch the wheel once
			dir := t.TempDir()
			MustWrite(t, dir, plugin)
			prep := MustPreparePy(t, dir, "3", opt)
			if out := MustRun(t, dir, prep.Command); strings.TrimSpace(out) != "42" {
				t.Fatalf("plugin %d printed %q, want 42", i, out)
			}
		}
		if n := ix.downloads.Load(); n != 1 {
			t.Errorf("the wheel was downloaded %d times by two plugins sharing a cache, want 1", n)
		}
		joined := strings.Join(details, "\n")
		for _, want := range []string{"looking up tinydep (1 of 1) in " + ix.URL + "/simple", "collecting tinydep (1 of 1)", "installing 1 package: tinydep"} {
			if !strings.Contains(joined, want) {
				t.Errorf("progress %q does not contain %q", details, want)
			}
		}
	})
	t.Run("OKSharedWheelFolderIsOffline", func(t *testing.T) {
		dir := t.TempDir()
		MustWrite(t, dir, plugin)
		opt := runner.Options{FindLinks: []string{filepath.Dir(wheel)}, UV: "off"}
		prep := MustPreparePy(t, dir, "3", opt)
		if out := MustRun(t, dir, prep.Command); strings.TrimSpace(out) != "42" {
			t.Fatalf("plugin printed %q, want 42", out)
		}
	})
	t.Run("ErrIndexUnreachable", func(t *testing.T) {
		// The case: pip retries, then fails; the task gets one sentence.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		index := "http://" + ln.Addr().String() + "/simple"
		ln.Close() // nothing listens there now: connections are refused
		dir := t.TempDir()
		MustWrite(t, dir, plugin)
		var log strings.Builder
		opt := runner.Options{IndexURL: index, UV: "off", Log: &log}
		_, err = runner.Prepare(context.Background(), manifest("python", "3", "main"), dir, opt)
		wantErr(t, err, "invalid", "Dependency tinydep==1.0 could not be installed because "+index+" could not be reached: ship it in the package's wheels/ folder")
		if strings.Contains(err.Error(), "Retrying") || !strings.Contains(log.String(), "Retrying") {
			t.Errorf("pip's retries belong in the log, not the message %q", err)
		}
	})
	t.Run("ErrNotInSharedFolder", func(t *testing.T) {
		dir := t.TempDir()
		MustWrite(t, dir, map[string]string{"main.py": "", "requirements.txt": "otherdep>=2\n"})
		opt := runner.Options{FindLinks: []string{filepath.Dir(wheel)}, UV: "off"}
		_, err := runner.Prepare(context.Background(), manifest("python", "3", "main"), dir, opt)
		wantErr(t, err, "invalid", "Dependency otherdep>=2 could not be installed: no matching version in "+filepath.Dir(wheel)+";")
	})
}

// TestPrepareHermetic: pip runs with the plugin's scrubbed environment, so
// the daemon's PYTHONPATH and PIP_* settings never reach it.
func TestPrepareHermetic(t *testing.T) {
	t.Run("OKPythonPathIgnored", func(t *testing.T) {
		// A tinydep 1.0 on the daemon's PYTHONPATH would make pip skip it as
		// "already satisfied", and the plugin (which runs scrubbed) lack it.
		site := t.TempDir()
		MustWrite(t, site, map[string]string{
			"tinydep/__init__.py":             "VALUE = 1\n",
			"tinydep-1.0.dist-info/METADATA":  "Metadata-Version: 2.1\nName: tinydep\nVersion: 1.0\n",
			"tinydep-1.0.dist-info/RECORD":    "",
			"tinydep-1.0.dist-info/INSTALLER": "pip\n",
		})
		t.Setenv("PYTHONPATH", site)
		dir := t.TempDir()
		MustWrite(t, dir, map[string]string{"main.py": "import tinydep\nprint(tinydep.VALUE)\n", "requirements.txt": "tinydep==1.0\n"})
		MustWheel(t, dir, "tinydep", "42")
		prep := MustPreparePy(t, dir, "3", runner.Options{UV: "off"})
		if out := MustRunScrubbed(t, dir, prep.Command); strings.TrimSpace(out) != "42" {
			t.Errorf("plugin printed %q, want 42 from its own wheel", out)
		}
	})
	t.Run("ErrPipFindLinksIgnored", func(t *testing.T) {
		// The machine's PIP_FIND_LINKS has leakdep; the package's wheels/ has not.
		t.Setenv("PIP_FIND_LINKS", filepath.Dir(MustWheelIn(t, t.TempDir(), "leakdep", "1")))
		t.Setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
		dir := t.TempDir()
		MustWrite(t, dir, map[string]string{"main.py": "", "requirements.txt": "leakdep==1.0\n"})
		MustWheel(t, dir, "tinydep", "42")
		_, err := runner.Prepare(context.Background(), manifest("python", "3", "main"), dir, runner.Options{UV: "off"})
		wantErr(t, err, "invalid", "Dependency leakdep==1.0 could not be installed: no matching version in the package's wheels/ folder;")
	})
}

// MustRunScrubbed runs cmd in dir with an empty environment but PATH, as
// the daemon runs plugins.
func MustRunScrubbed(tb testing.TB, dir string, cmd []string) string {
	tb.Helper()
	c := execCommand(cmd)
	c.Dir = dir
	c.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + dir}
	out, err := c.CombinedOutput()
	if err != nil {
		tb.Fatalf("%q: %v\n%s", cmd, err, out)
	}
	return string(out)
}
