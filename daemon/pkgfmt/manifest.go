package pkgfmt

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/plugboard/plugboard"
)

// Patterns Dify applies to a manifest.
var (
	versionRe = regexp.MustCompile(`^\d{1,4}(\.\d{1,4}){1,3}(-\w{1,16})?$`)
	authorRe  = regexp.MustCompile(`^[a-z0-9_-]{1,64}$`)
	nameRe    = regexp.MustCompile(`^[a-z0-9_-]{1,128}$`)
)

// parseManifest decodes and validates manifest.yaml against the package's files.
func parseManifest(data []byte, files fileSet, w *findings) (*plugboard.Manifest, *doc, error) {
	m := new(plugboard.Manifest)
	d, err := parseDoc(manifestFile, data, m, w)
	if err != nil {
		return nil, nil, err
	}
	m.Verified = false
	// A version written as a bare number (1.0, 3.10) keeps its text, as
	// Dify's yaml.v3 keeps it for a text field.
	for field, v := range map[string]*string{
		"version": &m.Version, "meta.version": &m.Meta.Version,
		"meta.runner.version": &m.Meta.Runner.Version, "meta.minimum_dify_version": &m.Meta.MinimumDifyVersion,
	} {
		if text, ok := d.scalar(field); ok {
			*v = text
		}
	}
	for _, check := range []func(*plugboard.Manifest, *doc, fileSet) error{
		checkIdentity, checkTexts, checkIcons, checkMeta, checkPlugins, checkResource,
	} {
		if err := check(m, d, files); err != nil {
			return nil, nil, err
		}
	}
	return m, d, nil
}

// checkIdentity checks version, type, author and name.
func checkIdentity(m *plugboard.Manifest, d *doc, _ fileSet) error {
	switch {
	case m.Version == "":
		return d.errorf("version", "required")
	case !versionRe.MatchString(m.Version):
		return d.errorf("version", "%q is not a valid version (like 1.2.3 or 0.0.1-beta)", m.Version)
	case m.Type != "plugin":
		return d.errorf("type", "must be \"plugin\", not %q", m.Type)
	case m.Author == "":
		return d.errorf("author", "required")
	case !authorRe.MatchString(m.Author):
		return d.errorf("author", "%q must be 1-64 characters of a-z, 0-9, _ and -", m.Author)
	case m.Name == "":
		return d.errorf("name", "required")
	case !nameRe.MatchString(m.Name):
		return d.errorf("name", "%q must be 1-128 characters of a-z, 0-9, _ and -", m.Name)
	}
	return nil
}

// checkTexts checks the labels and created_at.
func checkTexts(m *plugboard.Manifest, d *doc, _ fileSet) error {
	if err := requireI18n(d, "label", m.Label); err != nil {
		return err
	}
	if err := requireI18n(d, "description", m.Description); err != nil {
		return err
	}
	if m.CreatedAt == "" {
		return d.errorf("created_at", "required")
	}
	return nil
}

// checkIcons checks that the icons are named and present under _assets/.
func checkIcons(m *plugboard.Manifest, d *doc, files fileSet) error {
	if m.Icon == "" {
		return d.errorf("icon", "required")
	}
	if err := requireAsset(d, "icon", m.Icon, files); err != nil {
		return err
	}
	if m.IconDark != "" {
		return requireAsset(d, "icon_dark", m.IconDark, files)
	}
	return nil
}

// checkMeta checks the runner and the architectures.
func checkMeta(m *plugboard.Manifest, d *doc, _ fileSet) error {
	r := m.Meta.Runner
	switch r.Language {
	case plugboard.RunnerPython, plugboard.RunnerBinary:
	case "":
		return d.errorf("meta.runner.language", "required (python or binary)")
	default:
		return d.errorf("meta.runner.language", "unknown runner %q (want python or binary)", r.Language)
	}
	if r.Entrypoint == "" {
		return d.errorf("meta.runner.entrypoint", "required")
	}
	if strings.ContainsAny(r.Entrypoint, `/\`) || r.Entrypoint == "." || r.Entrypoint == ".." {
		return d.errorf("meta.runner.entrypoint", "%q must be a file or module name inside the package, not a path", r.Entrypoint)
	}
	if len(m.Meta.Arch) == 0 {
		return d.errorf("meta.arch", "required (amd64, arm64 or both)")
	}
	for i, a := range m.Meta.Arch {
		if a != "amd64" && a != "arm64" {
			return d.errorf(fmt.Sprintf("meta.arch[%d]", i), "unknown architecture %q (want amd64 or arm64)", a)
		}
	}
	return nil
}

// checkPlugins checks that the package provides something, that the kinds
// Dify keeps apart (models, agent strategies, datasources: each with none of
// tools, endpoints, models, agent strategies, datasources) stand alone, and
// that every file named exists. Triggers combine with any kind but models,
// as in Dify: a model plugin declares nothing else.
func checkPlugins(m *plugboard.Manifest, d *doc, files fileSet) error {
	p := m.Plugins
	kinds := []struct {
		field     string
		paths     []string
		exclusive bool
	}{
		{"plugins.tools", p.Tools, false},
		{"plugins.endpoints", p.Endpoints, false},
		{"plugins.models", p.Models, true},
		{"plugins.agent_strategies", p.AgentStrategies, true},
		{"plugins.datasources", p.Datasources, true},
	}
	apart, exclusive := 0, ""
	for _, k := range kinds {
		if len(k.paths) == 0 {
			continue
		}
		apart++
		if k.exclusive {
			exclusive = k.field
		}
		if err := requireFiles(d, k.field, k.paths, files); err != nil {
			return err
		}
	}
	if err := requireFiles(d, "plugins.triggers", p.Triggers, files); err != nil {
		return err
	}
	switch {
	case apart == 0 && len(p.Triggers) == 0:
		return d.errorf("plugins", "the package must provide at least one of tools, endpoints, models, agent_strategies, datasources or triggers")
	case exclusive != "" && apart > 1:
		return d.errorf(exclusive, "%s cannot be combined with tools, endpoints, models, agent_strategies or datasources", exclusive)
	case len(p.Models) > 0 && len(p.Triggers) > 0:
		return d.errorf("plugins.models", "a model plugin declares nothing else: plugins.models cannot be combined with triggers")
	}
	return nil
}

// requireFiles checks that each path listed under field is a file of the package.
func requireFiles(d *doc, field string, paths []string, files fileSet) error {
	for i, p := range paths {
		if _, ok := files.get(p); !ok {
			return d.errorf(fmt.Sprintf("%s[%d]", field, i), "file %q is not in the package", p)
		}
	}
	return nil
}

// requireI18n checks that an i18n text has its en_US entry.
func requireI18n(d *doc, field string, t plugboard.I18n) error {
	if t == nil {
		return d.errorf(field, "required (with en_US)")
	}
	if t.English() == "" {
		return d.errorf(field+".en_US", "required")
	}
	return nil
}

// requireAsset checks that an icon file is present under _assets/.
func requireAsset(d *doc, field, name string, files fileSet) error {
	if _, ok := files.get(assetsDir + name); !ok {
		return d.errorf(field, "icon %q is not in the package's %s folder", name, assetsDir)
	}
	return nil
}

// checkResource checks resource.permission.storage.size against Dify's
// bounds (1 KiB to 1 GiB), which Dify's decoder enforces whenever storage
// is declared.
func checkResource(m *plugboard.Manifest, d *doc, _ fileSet) error {
	if err := m.Resource.CheckStorageSize(); err != nil {
		return d.errorf("resource.permission.storage.size", "%v", err)
	}
	return nil
}
