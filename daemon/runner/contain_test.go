package runner

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/plugboard/plugboard/daemon/sandbox"
)

// The tools preparing a package (pip can run a package's setup.py) are
// contained like the plugin: they write its dir and their temp dir only.
func TestToolsContained(t *testing.T) {
	if sandbox.Probe().Landlock == 0 {
		t.Skip("this kernel lacks Landlock (no ABI reported): install tools are not confined to the package's dir here")
	}
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3 on PATH")
	}
	dir := t.TempDir()
	outside := filepath.Join(os.TempDir(), "runner-outside-"+strconv.Itoa(os.Getpid()))
	defer os.Remove(outside)
	secret := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secret, []byte("s3cret"), 0o644); err != nil {
		t.Fatal(err)
	}
	script := `import os, sys
open("inside", "w").write("ok")
open(os.path.join(os.environ["TMPDIR"], "temp"), "w").write("ok")
for what, f in (("write", lambda: open(sys.argv[1], "w")), ("read", lambda: open(sys.argv[2]).read())):
    try:
        f()
        print(what, "allowed")
    except OSError as e:
        print(what, "denied:", e)
`
	var log bytes.Buffer
	s := &session{dir: dir, env: buildEnv(dir, Options{}), log: &log}
	if err := s.run(context.Background(), "probe", python, "-c", script, outside, secret); err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	out := log.String()
	if !strings.Contains(out, "write denied") || !strings.Contains(out, "read denied") {
		t.Errorf("the tool escaped its dir:\n%s", out)
	}
	if _, err := os.Stat(outside); err == nil {
		t.Errorf("the tool wrote %s", outside)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "inside")); err != nil || string(b) != "ok" {
		t.Errorf("the tool could not write its own dir: %q, %v\n%s", b, err, out)
	}
}
