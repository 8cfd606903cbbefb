package pkgfmt_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/plugboard/plugboard/daemon/pkgfmt"
)

// remoteParts is what a remote plugin sends for the packed binary plugin.
func remoteParts(t *testing.T) (*pkgfmt.Package, json.RawMessage, json.RawMessage, map[string][]byte) {
	t.Helper()
	_, pkg, err := pkgfmt.Pack(sourceFS(), pkgfmt.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	man, _ := json.Marshal(pkg.Manifest)
	prov, _ := json.Marshal(pkg.Manifest.Tool)
	assets := map[string][]byte{}
	for _, f := range pkg.Files() {
		if name, ok := strings.CutPrefix(f, "_assets/"); ok {
			assets[name], _ = pkg.ReadFile(f)
		}
	}
	return pkg, man, prov, assets
}

func TestDecodeRemote(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		pkg, man, prov, assets := remoteParts(t)
		got, err := pkgfmt.DecodeRemote(man, prov, assets)
		if err != nil {
			t.Fatal(err)
		}
		want := *pkg.Manifest
		want.Tool.ToolFiles, got.Tool.ToolFiles = nil, nil
		if !reflect.DeepEqual(got, &want) {
			t.Fatalf("got %+v\nwant %+v", got, &want)
		}
	})
	t.Run("ErrMissingIcon", func(t *testing.T) {
		_, man, prov, _ := remoteParts(t)
		_, err := pkgfmt.DecodeRemote(man, prov, nil)
		if err == nil || !strings.Contains(err.Error(), "icon") {
			t.Fatalf("err = %v, want a missing icon", err)
		}
	})
	t.Run("ErrNotObject", func(t *testing.T) {
		_, err := pkgfmt.DecodeRemote(json.RawMessage(`[1]`), nil, nil)
		if err == nil || !strings.Contains(err.Error(), "manifest_declaration") {
			t.Fatalf("err = %v, want manifest_declaration named", err)
		}
	})
	t.Run("ErrBadTool", func(t *testing.T) {
		_, man, _, assets := remoteParts(t)
		_, err := pkgfmt.DecodeRemote(man, json.RawMessage(`{"identity":{"author":"a","name":"p","label":{"en_US":"P"},"description":{"en_US":"d"},"icon":"icon.png"},"tools":[{"identity":{}}]}`), assets)
		if err == nil || !strings.Contains(err.Error(), "tools/0.json") {
			t.Fatalf("err = %v, want the bad tool named", err)
		}
	})
}

func TestDecodeRemoteEmptyCredentials(t *testing.T) {
	_, man, _, assets := remoteParts(t)
	prov := json.RawMessage(`{"identity":{"author":"plugboard","name":"gotools","label":{"en_US":"Go tools"},"description":{"en_US":"Tools"},"icon":"icon.png","tags":null},"credentials_schema":[],"tools":[{"identity":{"name":"whoami","author":"plugboard","label":{"en_US":"Who"}},"description":{"human":{"en_US":"Who"},"llm":"Who"}}]}`)
	m, err := pkgfmt.DecodeRemote(man, prov, assets)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(m)
	for _, want := range []string{`"credentials_schema":[]`, `"tags":[]`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("remote declaration lacks %s: %s", want, data)
		}
	}
}

// A remote model plugin sends its provider with the models inline (laid out
// at the path its manifest names); it validates as the packaged provider
// does and keeps its models, their order and the positions.
func TestDecodeRemoteModel(t *testing.T) {
	pkg := MustDecode(t, MustZip(t, modelFiles(), ""))
	man, _ := json.Marshal(pkg.Manifest)
	prov, _ := json.Marshal(pkg.Manifest.Model)
	assets := map[string][]byte{}
	for _, f := range pkg.Files() {
		if name, ok := strings.CutPrefix(f, "_assets/"); ok {
			assets[name], _ = pkg.ReadFile(f)
		}
	}
	t.Run("OK", func(t *testing.T) {
		got, err := pkgfmt.DecodeRemoteWith(man, pkgfmt.RemoteDeclarations{Model: prov}, assets)
		if err != nil {
			t.Fatal(err)
		}
		if got.Category() != "model" || got.Model == nil {
			t.Fatalf("manifest = %+v", got)
		}
		if g, w := mustJSON(t, got.Model), mustJSON(t, pkg.Manifest.Model); g != w {
			t.Errorf("remote provider\n%s\nwant\n%s", g, w)
		}
	})
	t.Run("ErrBadModel", func(t *testing.T) {
		bad := json.RawMessage(strings.Replace(string(prov), `"model_type":"text-embedding"`, `"model_type":"embedding"`, 1))
		_, err := pkgfmt.DecodeRemoteWith(man, pkgfmt.RemoteDeclarations{Model: bad}, assets)
		MustReject(t, err, "provider/acme.yaml", "models[2].model_type", `unknown model type "embedding"`)
	})
	t.Run("ErrMissingIcon", func(t *testing.T) {
		_, err := pkgfmt.DecodeRemoteWith(man, pkgfmt.RemoteDeclarations{Model: prov}, map[string][]byte{"icon.svg": []byte("<svg/>")})
		MustReject(t, err, "provider/acme.yaml", "icon_small.en_US", `icon "icon_s.svg" is not in the package`)
	})
}
