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
	"path"
	"path/filepath"
	"regexp"
	"slices"

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

// BuildBinaries builds the Go plugin in dir for linux on each arch into
// out/bin/<arch>/<entrypoint>, as `go build -trimpath` with CGO_ENABLED=0;
// the compiler's output goes to stderr. Nothing is written into dir, so
// builds of one plugin (tests in parallel packages) never meet; out should
// be a directory of the caller's own.
func BuildBinaries(ctx context.Context, dir, out, entrypoint string, arches []string, stderr io.Writer) error {
	if err := checkBuild(dir, entrypoint, arches); err != nil {
		return err
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("building a Go plugin needs the go command on PATH: %w", err)
	}
	out, err = filepath.Abs(out)
	if err != nil {
		return err
	}
	for _, arch := range arches {
		if err := goBuild(ctx, goBin, dir, arch, filepath.Join(out, "bin", arch, entrypoint), stderr); err != nil {
			return err
		}
	}
	return nil
}

// legacyTempRe matches the temporary binaries earlier builders wrote beside
// the real ones in the source tree (.<entrypoint>.<pid>-<n>.tmp); a build
// killed half-way could leave one behind, and it must never be packed.
var legacyTempRe = regexp.MustCompile(`^\..+\.[0-9]+-[0-9]+\.tmp$`)

// IsBuildTemp reports whether the slash path names a builder's temporary file.
func IsBuildTemp(p string) bool {
	return legacyTempRe.MatchString(path.Base(p))
}

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
