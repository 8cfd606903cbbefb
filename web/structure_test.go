package web_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestStructure keeps the shape issue #12 gave the app: web.Server wires
// and routes (handlers live in web/<area> packages, logic in app/*), and
// no package but the binary's wiring imports more than 30 packages.
func TestStructure(t *testing.T) {
	t.Run("OKServerMethods", func(t *testing.T) {
		files, err := filepath.Glob("*.go")
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		fset := token.NewFileSet()
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			file, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range file.Decls {
				if fn, ok := d.(*ast.FuncDecl); ok && fn.Recv != nil && receiverIs(fn, "Server") {
					n++
				}
			}
		}
		if n == 0 || n >= 30 {
			t.Fatalf("web.Server has %d methods; it wires and routes, handlers belong in web/<area>", n)
		}
	})
	t.Run("OKImports", func(t *testing.T) {
		out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{len .Imports}}", "github.com/plugboard/plugboard/...").Output()
		if err != nil {
			t.Fatalf("go list: %v", err)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			path, count, _ := strings.Cut(line, " ")
			n, err := strconv.Atoi(count)
			if err != nil {
				t.Fatalf("go list said %q", line)
			}
			limit := 30
			switch path {
			case "github.com/plugboard/plugboard/cmd/plugboard":
				continue
			case "github.com/plugboard/plugboard/web":
				// web mounts one handler package per surface (admin pages,
				// the agent, the gateway, the daemon's calls back): each new
				// surface adds one import here and nothing else.
				limit = 36
			}
			if n > limit {
				t.Errorf("%s imports %d packages (at most %d): split it by concern", path, n, limit)
			}
		}
	})
}

func receiverIs(fn *ast.FuncDecl, name string) bool {
	typ := fn.Recv.List[0].Type
	if star, ok := typ.(*ast.StarExpr); ok {
		typ = star.X
	}
	id, ok := typ.(*ast.Ident)
	return ok && id.Name == name
}
