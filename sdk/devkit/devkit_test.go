package devkit_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/plugboard/plugboard/daemon/pkgfmt"
	"github.com/plugboard/plugboard/daemon/protocol"
	"github.com/plugboard/plugboard/sdk/devkit"
)

// MustModuleRoot returns the Plugboard checkout the test runs in.
func MustModuleRoot(tb testing.TB) string {
	tb.Helper()
	root, err := devkit.ModuleRoot(".")
	if err != nil {
		tb.Fatal(err)
	}
	return root
}

// MustInit scaffolds a plugin named name into a fresh directory.
func MustInit(tb testing.TB, name string) string {
	tb.Helper()
	dir := filepath.Join(tb.TempDir(), name)
	if err := devkit.Init(dir, name, "tester", MustModuleRoot(tb)); err != nil {
		tb.Fatalf("Init: %v", err)
	}
	return dir
}

func TestInitAndBuild(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		dir := MustInit(t, "my-tool")
		for _, f := range []string{"manifest.yaml", "provider/my-tool.yaml", "tools/hello.yaml", "main.go",
			"go.mod", ".difyignore", "README.md", "_assets/icon.svg"} {
			if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
				t.Errorf("scaffold lacks %s: %v", f, err)
			}
		}
		var buildOut bytes.Buffer
		out := t.TempDir()
		if err := devkit.BuildBinaries(context.Background(), dir, out, "my-tool", []string{runtime.GOARCH}, &buildOut); err != nil {
			t.Fatalf("BuildBinaries: %v\n%s", err, buildOut.String())
		}
		bin := filepath.Join(out, "bin", runtime.GOARCH, "my-tool")
		got := runPlugin(t, bin, `{"session_id":"s1","event":"request","data":{"user_id":"u","type":"tool",`+
			`"action":"invoke_tool","provider":"my-tool","tool":"hello","tool_parameters":{"name":"Ada"},"credentials":{}}}`)
		if got != "Hello, Ada!" {
			t.Fatalf("hello answered %q", got)
		}
	})
	t.Run("ErrDirNotEmpty", func(t *testing.T) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "keep.txt"), []byte("mine"), 0o644)
		err := devkit.Init(dir, "x", "tester", MustModuleRoot(t))
		if err == nil || !strings.Contains(err.Error(), "not empty") {
			t.Fatalf("Init into a non-empty dir = %v", err)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 1 {
			t.Fatalf("Init changed the directory: %d entries", len(entries))
		}
	})
	t.Run("ErrBadName", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "p")
		err := devkit.Init(dir, "Bad Name", "tester", MustModuleRoot(t))
		if err == nil || !strings.Contains(err.Error(), `"Bad Name"`) {
			t.Fatalf("Init with a bad name = %v", err)
		}
		if _, statErr := os.Stat(dir); !errors.Is(statErr, os.ErrNotExist) {
			t.Fatalf("Init left %s behind", dir)
		}
	})
	t.Run("ErrBadAuthor", func(t *testing.T) {
		err := devkit.Init(filepath.Join(t.TempDir(), "p"), "ok", "A/B", MustModuleRoot(t))
		if err == nil || !strings.Contains(err.Error(), `author "A/B"`) {
			t.Fatalf("Init with a bad author = %v", err)
		}
	})
	t.Run("ErrNotSDKModule", func(t *testing.T) {
		err := devkit.Init(filepath.Join(t.TempDir(), "p"), "ok", "tester", t.TempDir())
		if err == nil || !strings.Contains(err.Error(), "go.mod") {
			t.Fatalf("Init with a wrong SDK dir = %v", err)
		}
	})
}

func TestBuildBinaries(t *testing.T) {
	t.Run("ErrNotGoPlugin", func(t *testing.T) {
		err := devkit.BuildBinaries(context.Background(), t.TempDir(), t.TempDir(), "main", []string{"amd64"}, nil)
		if !errors.Is(err, devkit.ErrNotGoPlugin) {
			t.Fatalf("BuildBinaries of an empty dir = %v", err)
		}
	})
	t.Run("ErrBadArch", func(t *testing.T) {
		dir := MustInit(t, "archy")
		err := devkit.BuildBinaries(context.Background(), dir, t.TempDir(), "archy", []string{"mips"}, nil)
		if err == nil || !strings.Contains(err.Error(), `"mips"`) {
			t.Fatalf("BuildBinaries for mips = %v", err)
		}
	})
	t.Run("ErrCompile", func(t *testing.T) {
		dir := MustInit(t, "broken")
		os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\nfunc main() { undefinedThing() }\n"), 0o644)
		out := t.TempDir()
		err := devkit.BuildBinaries(context.Background(), dir, out, "broken", []string{runtime.GOARCH}, nil)
		if err == nil || !strings.Contains(err.Error(), "undefinedThing") {
			t.Fatalf("BuildBinaries of broken code = %v", err)
		}
		if entries, _ := os.ReadDir(filepath.Join(out, "bin", runtime.GOARCH)); len(entries) != 0 {
			t.Fatalf("a failed build left %d files in bin/", len(entries))
		}
	})
}

// runPlugin starts the binary, sends one request, closes stdin and returns
// the text the session streamed; it checks the first event is a heartbeat,
// the session ends and the process exits 0.
func runPlugin(t *testing.T, bin, request string) string {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Stdin = strings.NewReader(request + "\n")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("plugin exited with %v", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	var text strings.Builder
	var events []string
	for sc.Scan() {
		var ev protocol.Event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("plugin line %q: %v", sc.Text(), err)
		}
		events = append(events, ev.Event)
		if ev.Event != protocol.EventSession {
			continue
		}
		var sd protocol.SessionData
		json.Unmarshal(ev.Data, &sd)
		events[len(events)-1] += "/" + sd.Type
		if sd.Type == protocol.SessionStream {
			var tm protocol.ToolMessage
			json.Unmarshal(sd.Data, &tm)
			var m protocol.TextMessage
			json.Unmarshal(tm.Message, &m)
			text.WriteString(m.Text)
		}
	}
	if len(events) == 0 || events[0] != protocol.EventHeartbeat || events[len(events)-1] != "session/end" {
		t.Fatalf("events = %v, want heartbeat first and session end last", events)
	}
	return text.String()
}

// TestPackDir scaffolds a plugin and packs it: the binaries are built for
// each arch and the Go sources stay out of the package.
func TestPackDir(t *testing.T) {
	root := MustModuleRoot(t)
	dir := filepath.Join(t.TempDir(), "packme")
	if err := devkit.Init(dir, "packme", "tester", root); err != nil {
		t.Fatal(err)
	}
	_, pkg, err := devkit.PackDir(context.Background(), dir, pkgfmt.DefaultLimits(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	files := strings.Join(pkg.Files(), " ")
	for _, want := range []string{"bin/amd64/packme", "bin/arm64/packme", "manifest.yaml"} {
		if !strings.Contains(files, want) {
			t.Errorf("package lacks %s: %s", want, files)
		}
	}
	if strings.Contains(files, "main.go") || strings.Contains(files, "go.mod") {
		t.Errorf("package carries Go sources: %s", files)
	}
	if pkg.ID.PluginID() != "tester/packme" {
		t.Errorf("plugin id %q", pkg.ID.PluginID())
	}
}

// TestPackDirConcurrent builds and packs one plugin twice at once, as tests
// in parallel packages do: both give the normal package, byte for byte, and
// the source tree is left exactly as it was.
func TestPackDirConcurrent(t *testing.T) {
	dir := MustInit(t, "twice")
	before := MustTreeListing(t, dir)
	type result struct {
		data []byte
		err  error
	}
	results := make(chan result, 2)
	for range 2 {
		go func() {
			data, _, err := devkit.PackDir(context.Background(), dir, pkgfmt.DefaultLimits(), io.Discard)
			results <- result{data, err}
		}()
	}
	first, second := <-results, <-results
	if first.err != nil || second.err != nil {
		t.Fatalf("PackDir: %v, %v", first.err, second.err)
	}
	if !bytes.Equal(first.data, second.data) {
		t.Errorf("concurrent packs differ: %d and %d bytes", len(first.data), len(second.data))
	}
	pkg, err := pkgfmt.Decode(first.data, pkgfmt.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{".difyignore", "README.md", "_assets/icon.svg", "bin/amd64/twice", "bin/arm64/twice",
		"manifest.yaml", "provider/twice.yaml", "tools/hello.yaml"}
	if got := pkg.Files(); !slices.Equal(got, want) {
		t.Errorf("package files = %v, want %v", got, want)
	}
	if after := MustTreeListing(t, dir); after != before {
		t.Errorf("PackDir wrote into the source tree:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// TestPackDirLeavesOutBuildTemps packs a plugin whose bin/ holds a stale
// binary and a temporary file an earlier builder left: the fresh build
// replaces the stale binary and the temporary file stays out.
func TestPackDirLeavesOutBuildTemps(t *testing.T) {
	dir := MustInit(t, "stale")
	binDir := filepath.Join(dir, "bin", runtime.GOARCH)
	os.MkdirAll(binDir, 0o755)
	os.WriteFile(filepath.Join(binDir, "stale"), []byte("#!/bin/sh\necho stale\n"), 0o755)
	os.WriteFile(filepath.Join(binDir, ".stale.4242-7.tmp"), bytes.Repeat([]byte("x"), 1<<20), 0o755)
	_, pkg, err := devkit.PackDir(context.Background(), dir, pkgfmt.DefaultLimits(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	files := strings.Join(pkg.Files(), " ")
	if strings.Contains(files, ".tmp") {
		t.Errorf("package carries a builder's temporary file: %s", files)
	}
	bin, err := pkg.ReadFile("bin/" + runtime.GOARCH + "/stale")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.HasPrefix(bin, []byte("#!")) || len(bin) < 1<<20 {
		t.Errorf("package carries the stale binary (%d bytes), not the fresh build", len(bin))
	}
}

// MustTreeListing lists every file under dir with its size, mode and time,
// one per line, to compare a tree before and after.
func MustTreeListing(tb testing.TB, dir string) string {
	tb.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s %d %v %d\n", p, info.Size(), info.Mode(), info.ModTime().UnixNano())
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return b.String()
}
