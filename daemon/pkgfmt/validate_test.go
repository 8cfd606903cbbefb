package pkgfmt_test

import (
	"fmt"
	"strings"
	"testing"
)

func TestDecodeBadYAML(t *testing.T) {
	const (
		manifest = "manifest.yaml"
		provider = "provider/weather.yaml"
		tool     = "tools/forecast.yaml"
	)
	cases := []struct {
		name              string
		files             files
		file, field, want string
		line              int
	}{
		{"ErrManifestSyntax", pythonFiles().edit(t, manifest, "name: weather_lookup\n", "name: [weather\n"),
			manifest, "", "bad yaml", 5},
		{"ErrManifestType", pythonFiles().edit(t, manifest, "label:\n  en_US: Weather lookup\n  zh_Hans: 天气\n", "label: Weather\n"),
			manifest, "label", "must be a text per language (like en_US: …), not a text", 5},
		{"ErrBadVersion", pythonFiles().edit(t, manifest, "version: 0.3.1", "version: v0.3"),
			manifest, "version", `"v0.3" is not a valid version`, 1},
		{"ErrNotPlugin", pythonFiles().edit(t, manifest, "type: plugin", "type: bundle"),
			manifest, "type", `must be "plugin"`, 2},
		{"ErrBadAuthor", pythonFiles().edit(t, manifest, "author: acme", "author: Acme Corp"),
			manifest, "author", `"Acme Corp" must be 1-64 characters`, 3},
		{"ErrBadName", pythonFiles().edit(t, manifest, "name: weather_lookup", "name: Weather"),
			manifest, "name", `"Weather" must be`, 4},
		{"ErrLabelEnglish", pythonFiles().edit(t, manifest, "  en_US: Weather lookup\n", ""),
			manifest, "label.en_US", "required", 5},
		{"ErrIconMissing", pythonFiles().without("_assets/icon.svg"),
			manifest, "icon", `icon "icon.svg" is not in the package's _assets/ folder`, 11},
		{"ErrCreatedAt", pythonFiles().edit(t, manifest, "created_at: \"2025-03-01T10:00:00.123456789Z\"\n", ""),
			manifest, "created_at", "required", 0},
		{"ErrUnknownRunner", pythonFiles().edit(t, manifest, "language: python", "language: ruby"),
			manifest, "meta.runner.language", `unknown runner "ruby"`, 30},
		{"ErrNoEntrypoint", pythonFiles().edit(t, manifest, "    entrypoint: main\n", ""),
			manifest, "meta.runner.entrypoint", "required", 28},
		{"ErrEntrypointPath", pythonFiles().edit(t, manifest, "entrypoint: main", "entrypoint: ../../bin/sh"),
			manifest, "meta.runner.entrypoint", `"../../bin/sh" must be a file or module name inside the package, not a path`, 29},
		{"ErrBadArch", pythonFiles().edit(t, manifest, "- arm64", "- riscv64"),
			manifest, "meta.arch[1]", `unknown architecture "riscv64"`, 27},
		{"ErrNoPlugins", pythonFiles().edit(t, manifest, "  tools:\n    - provider/weather.yaml\n", "  tools: []\n"),
			manifest, "plugins", "at least one of", 21},
		{"ErrExclusiveKinds", pythonFiles().edit(t, manifest, "  tools:\n", "  models: [provider/weather.yaml]\n  tools:\n"),
			manifest, "plugins.models", "cannot be combined", 22},
		{"ErrProviderMissing", pythonFiles().without(provider),
			manifest, "plugins.tools[0]", `file "provider/weather.yaml" is not in the package`, 23},
		{"ErrProviderName", pythonFiles().edit(t, provider, "name: weather", "name: weather station"),
			provider, "identity.name", "must be letters", 39},
		{"ErrMissingToolFile", pythonFiles().without(tool),
			provider, "tools[0]", `tool file "tools/forecast.yaml" is not in the package`, 43},
		{"ErrCredentialType", pythonFiles().edit(t, provider, "type: secret-input", "type: password"),
			provider, "credentials_for_provider.api_token.type", `unknown credential type "password"`, 17},
		{"ErrUnknownParamType", pythonFiles().edit(t, tool, "type: number", "type: numbr"),
			tool, "parameters[1].type", `unknown parameter type "numbr"`, 30},
		{"ErrParamForm", pythonFiles().edit(t, tool, "form: form", "form: ui"),
			tool, "parameters[1].form", `unknown form "ui"`, 24},
		{"ErrParamFormMissing", pythonFiles().edit(t, tool, "- form: llm\n  human", "- human"),
			tool, "parameters[0].form", "required", 14},
		{"ErrToolLabel", pythonFiles().edit(t, tool, "  label:\n    en_US: Forecast\n", ""),
			tool, "identity.label", "required", 8},
		{"ErrStorageSizeSmall", pythonFiles().edit(t, manifest, "      llm: true\n", "      llm: true\n    storage:\n      enabled: true\n      size: 1000\n"),
			manifest, "resource.permission.storage.size", "must be a number of bytes from 1024 to 1073741824", 23},
		{"ErrStorageSizeLarge", pythonFiles().edit(t, manifest, "      llm: true\n", "      llm: true\n    storage:\n      enabled: false\n      size: 2147483648\n"),
			manifest, "resource.permission.storage.size", "not 2147483648", 23},
		{"ErrToolSyntax", pythonFiles().edit(t, tool, "  name: days\n", "  name: days: x\n"),
			tool, "", "bad yaml", 29},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := MustReject(t, decodeErr(t, MustZip(t, c.files, "")), c.file, c.field, c.want)
			if e.Line != c.line {
				t.Errorf("line = %d, want %d (%v)", e.Line, c.line, e)
			}
		})
	}
	t.Run("ErrAliasBomb", func(t *testing.T) {
		bomb := "output_schema:\n  a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
		for i := 1; i <= 6; i++ {
			prev := fmt.Sprintf("*a%d", i-1)
			bomb += fmt.Sprintf("  a%d: &a%d [%s]\n", i, i, strings.Repeat(prev+", ", 9)+prev)
		}
		zf := pythonFiles().with(tool, forecastTool+bomb)
		MustReject(t, decodeErr(t, MustZip(t, zf, "")), tool, "", "expands to more than")
	})
	t.Run("ErrorFormat", func(t *testing.T) {
		err := decodeErr(t, MustZip(t, pythonFiles().edit(t, tool, "type: number", "type: strnig"), ""))
		want := `tools/forecast.yaml: parameters[1].type (line 30): unknown parameter type "strnig"`
		if err == nil || err.Error() != want {
			t.Errorf("error = %v\nwant    %s", err, want)
		}
	})
}
