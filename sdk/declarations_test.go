package sdk

import "testing"

func TestNotDeclaration(t *testing.T) {
	for p, want := range map[string]bool{
		"manifest.yaml":              false,
		"provider/tools.yml":         false,
		"README.md":                  false,
		"_assets/icon.svg":           false,
		"main.go":                    true,
		"bin/amd64/main.yaml":        true,
		".venv/lib/x.yaml":           true,
		"tools/node_modules/a.yaml":  true,
		"tools/.cache/b.md":          true,
		"_assets/.hidden/x.svg":      true,
		"requirements.txt":           true,
		"tools/binary_tools.yaml":    false,
		"tools/bin_folder/ok.yaml":   false,
		"docs/_assets/not-root.png":  true,
		"provider/.secret/conf.yaml": true,
	} {
		if got := notDeclaration(p); got != want {
			t.Errorf("notDeclaration(%s) = %v, want %v", p, got, want)
		}
	}
}
