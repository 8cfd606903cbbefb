package devkit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sync/atomic"

	"golang.org/x/mod/modfile"
)

// Arches are the architectures a binary plugin may be built for.
var Arches = []string{"amd64", "arm64"}

// ErrNotGoPlugin is returned by BuildBinaries for a directory without a Go
// main package (a Python plugin, say); callers may skip building then.
var ErrNotGoPlugin = errors.New("not a Go plugin: no .go file of package main")

var entrypointRe = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,128}$`)

// IsGoPlugin reports whether dir holds a Go main package.
func IsGoPlugin(dir string) bool {
	files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	fset := token.NewFileSet()
	for _, f := range files {
		ast, err := parser.ParseFile(fset, f, nil, parser.PackageClauseOnly)
		if err == nil && ast.Name.Name == "main" {
			return true
		}
	}
	return false
}

// BuildBinaries builds the Go plugin in dir for linux on each arch, as
// `go build -trimpath -o bin/<arch>/<entrypoint> .` with CGO_ENABLED=0; the
// compiler's output goes to stderr. The binaries replace any earlier ones
// only when every build succeeded.
func BuildBinaries(ctx context.Context, dir, entrypoint string, arches []string, stderr io.Writer) error {
	if err := checkBuild(dir, entrypoint, arches); err != nil {
		return err
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("building a Go plugin needs the go command on PATH: %w", err)
	}
	// Each build writes to a temporary name of its own, so concurrent builds
	// of the same plugin (tests in parallel packages) never collide.
	suffix := fmt.Sprintf(".%d-%d.tmp", os.Getpid(), buildSeq.Add(1))
	temp := func(arch string) string { return filepath.Join("bin", arch, "."+entrypoint+suffix) }
	defer func() {
		for _, arch := range arches {
			os.Remove(filepath.Join(dir, temp(arch))) // left only when a step failed
		}
	}()
	for _, arch := range arches {
		if err := goBuild(ctx, goBin, dir, arch, temp(arch), stderr); err != nil {
			return err
		}
	}
	for _, arch := range arches {
		final := filepath.Join(dir, "bin", arch, entrypoint)
		if err := os.Rename(filepath.Join(dir, temp(arch)), final); err != nil {
			return fmt.Errorf("install %s binary: %w", arch, err)
		}
	}
	return nil
}

// buildSeq numbers builds within this process.
var buildSeq atomic.Uint64

func checkBuild(dir, entrypoint string, arches []string) error {
	if !IsGoPlugin(dir) {
		return fmt.Errorf("%s: %w", dir, ErrNotGoPlugin)
	}
	if !entrypointRe.MatchString(entrypoint) {
		return fmt.Errorf("entrypoint %q is not a valid file name", entrypoint)
	}
	if len(arches) == 0 {
		return errors.New("no architectures to build for (meta.arch is empty)")
	}
	for _, a := range arches {
		if !slices.Contains(Arches, a) {
			return fmt.Errorf("architecture %q is not supported (use amd64 or arm64)", a)
		}
	}
	return nil
}

func goBuild(ctx context.Context, goBin, dir, arch, out string, stderr io.Writer) error {
	cmd := exec.CommandContext(ctx, goBin, "build", "-trimpath", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch)
	var output bytes.Buffer
	w := io.Writer(&output)
	if stderr != nil {
		w = io.MultiWriter(stderr, &output)
	}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build for linux/%s in %s failed: %w\n%s", arch, dir, err, tail(output.Bytes(), 2048))
	}
	return nil
}

// tail returns the last n bytes of b.
func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// ModuleRoot returns the directory of the Plugboard module that contains
// dir, walking up from it: the sdkModuleDir Init needs when run from a
// checkout.
func ModuleRoot(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := abs; ; d = filepath.Dir(d) {
		if mod, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && modfile.ModulePath(mod) == SDKModule {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no %s module above %s", SDKModule, abs)
		}
	}
}
