// Package devkit holds the plugin author's tools behind `plugboard plugin
// init` and `pack`: scaffolding a Go plugin and building its binaries.
package devkit

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"text/template"
	"time"

	"golang.org/x/mod/modfile"
)

// SDKModule is the module path of the Plugboard SDK.
const SDKModule = "github.com/plugboard/plugboard"

//go:embed template/*.tmpl
var templates embed.FS

// scaffold maps each template to the path it is written to ({name} is replaced).
var scaffold = []struct{ tmpl, path string }{
	{"manifest.yaml.tmpl", "manifest.yaml"},
	{"provider.yaml.tmpl", "provider/{name}.yaml"},
	{"hello.yaml.tmpl", "tools/hello.yaml"},
	{"main.go.tmpl", "main.go"},
	{"go.mod.tmpl", "go.mod"},
	{"difyignore.tmpl", ".difyignore"},
	{"README.md.tmpl", "README.md"},
	{"icon.svg.tmpl", "_assets/icon.svg"},
}

var (
	nameRe   = regexp.MustCompile(`^[a-z0-9_-]{1,128}$`)
	authorRe = regexp.MustCompile(`^[a-z0-9_-]{1,64}$`)
)

// scaffoldData fills the templates.
type scaffoldData struct {
	Name, Author, Label, Module, GoVersion, SDKDir, CreatedAt string
	// Requires are the SDK's own requirements ("path version"): with the SDK
	// replaced by a checkout, the plugin's go.mod must list them itself.
	Requires []string
}

// Init scaffolds a Go tool plugin named name by author in dir: manifest,
// provider and one tool (hello), main.go on the SDK, a go.mod that replaces
// the SDK module with sdkModuleDir (a Plugboard checkout), .difyignore,
// README.md and an icon. The result packs and runs as it is. Init refuses an
// existing non-empty dir, invalid names and an sdkModuleDir that is not
// Plugboard's module, and leaves nothing behind when it fails.
func Init(dir, name, author, sdkModuleDir string) error {
	data, err := newScaffoldData(name, author, sdkModuleDir)
	if err != nil {
		return err
	}
	created, err := prepareDir(dir)
	if err != nil {
		return err
	}
	if err := writeScaffold(dir, data); err != nil {
		cleanup(dir, created)
		return err
	}
	if err := copySums(data.SDKDir, dir); err != nil {
		cleanup(dir, created)
		return err
	}
	return nil
}

// copySums gives the plugin the SDK module's go.sum: the SDK's own
// dependencies must be verifiable for the plugin to build, and with the SDK
// replaced by a local checkout nothing else would record their sums.
func copySums(sdkDir, dir string) error {
	sums, err := os.ReadFile(filepath.Join(sdkDir, "go.sum"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read the SDK's go.sum: %w", err)
	}
	return os.WriteFile(filepath.Join(dir, "go.sum"), sums, 0o644)
}

func newScaffoldData(name, author, sdkModuleDir string) (*scaffoldData, error) {
	if !nameRe.MatchString(name) {
		return nil, fmt.Errorf("plugin name %q is invalid: use 1-128 of a-z, 0-9, _ and -", name)
	}
	if !authorRe.MatchString(author) {
		return nil, fmt.Errorf("author %q is invalid: use 1-64 of a-z, 0-9, _ and -", author)
	}
	sdk, err := readSDKModule(sdkModuleDir)
	if err != nil {
		return nil, err
	}
	return &scaffoldData{
		Name: name, Author: author, Label: label(name), Module: "plugins/" + author + "/" + name,
		GoVersion: sdk.GoVersion, SDKDir: sdk.Dir, Requires: sdk.Requires,
		CreatedAt: time.Now().UTC().Format(time.RFC3339),
	}, nil
}

// label turns "my_cool-tool" into "My Cool Tool".
func label(name string) string {
	words := strings.FieldsFunc(name, func(r rune) bool { return r == '_' || r == '-' })
	for i, w := range words {
		words[i] = strings.ToUpper(w[:1]) + w[1:]
	}
	if len(words) == 0 {
		return name
	}
	return strings.Join(words, " ")
}

// sdkModule is what a scaffold needs to know of the SDK's checkout.
type sdkModule struct {
	Dir       string   // absolute
	GoVersion string   // its go directive
	Requires  []string // "path version" of every module it requires
}

// readSDKModule checks that dir holds Plugboard's go.mod and reads it.
func readSDKModule(dir string) (*sdkModule, error) {
	if dir == "" {
		return nil, errors.New("the Plugboard SDK module directory is required (a checkout of " + SDKModule + ")")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("SDK module directory %q: %w", dir, err)
	}
	path := filepath.Join(abs, "go.mod")
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("SDK module directory %s has no readable go.mod: %w", abs, err)
	}
	mod, err := modfile.ParseLax(path, data, nil)
	if err != nil {
		return nil, fmt.Errorf("SDK module directory %s: %w", abs, err)
	}
	if mod.Module == nil || mod.Module.Mod.Path != SDKModule {
		return nil, fmt.Errorf("SDK module directory %s does not hold module %s", abs, SDKModule)
	}
	if mod.Go == nil {
		return nil, fmt.Errorf("go.mod in %s has no go directive", abs)
	}
	m := &sdkModule{Dir: abs, GoVersion: mod.Go.Version}
	for _, r := range mod.Require {
		m.Requires = append(m.Requires, r.Mod.Path+" "+r.Mod.Version)
	}
	return m, nil
}

// prepareDir makes sure dir exists and is empty; created reports whether
// Init made it.
func prepareDir(dir string) (created bool, err error) {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return false, fmt.Errorf("create plugin directory: %w", err)
		}
		return true, nil
	case err != nil:
		return false, fmt.Errorf("plugin directory %s: %w", dir, err)
	case len(entries) > 0:
		return false, fmt.Errorf("plugin directory %s already exists and is not empty", dir)
	}
	return false, nil
}

func writeScaffold(dir string, data *scaffoldData) error {
	for _, f := range scaffold {
		path := filepath.Join(dir, filepath.FromSlash(strings.ReplaceAll(f.path, "{name}", data.Name)))
		if err := writeTemplate(path, f.tmpl, data); err != nil {
			return err
		}
	}
	return nil
}

func writeTemplate(path, name string, data *scaffoldData) error {
	t, err := template.ParseFS(templates, "template/"+name)
	if err != nil {
		return fmt.Errorf("template %s: %w", name, err)
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		return fmt.Errorf("template %s: %w", name, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// cleanup removes what Init wrote: the directory if it made it, else its contents.
func cleanup(dir string, created bool) {
	if created {
		os.RemoveAll(dir)
		return
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		os.RemoveAll(filepath.Join(dir, e.Name()))
	}
}
