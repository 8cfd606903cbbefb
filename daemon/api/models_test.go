package api_test

import (
	"archive/zip"
	"bytes"
	"context"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strings"
	"testing"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/api"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/pkgfmt"
)

const modelPluginID = "acme/acme_models"

// modelFiles are the declarations of a model plugin with two predefined
// LLMs (ordered by a position file) and an embedding model; it runs the
// gotools binary, which the daemon starts like any plugin.
var modelFiles = map[string]string{
	"manifest.yaml": `version: 0.0.1
type: plugin
author: acme
name: acme_models
label:
  en_US: Acme models
description:
  en_US: Acme's models.
icon: icon.svg
created_at: "2026-01-01T00:00:00Z"
resource:
  memory: 67108864
plugins:
  models:
    - provider/acme.yaml
meta:
  version: 0.0.1
  arch: [amd64, arm64]
  runner:
    language: binary
    entrypoint: gotools
`,
	"_assets/icon.svg": "<svg/>",
	"provider/acme.yaml": `provider: acme
label:
  en_US: Acme
icon_small:
  en_US: icon.svg
supported_model_types: [llm, text-embedding]
configurate_methods: [predefined-model]
provider_credential_schema:
  credential_form_schemas:
    - variable: api_key
      label:
        en_US: API Key
      type: secret-input
      required: true
models:
  llm:
    predefined: ["models/llm/*.yaml"]
    position: models/llm/_position.yaml
  text_embedding:
    predefined: ["models/text_embedding/*.yaml"]
`,
	"models/llm/_position.yaml": "- acme-large\n- acme-small\n",
	"models/llm/acme-large.yaml": `model: acme-large
model_type: llm
features: [tool-call, stream-tool-call]
model_properties:
  mode: chat
  context_size: 128000
parameter_rules:
  - name: temperature
    use_template: temperature
  - name: max_tokens
    use_template: max_tokens
    max: 8192
pricing:
  input: '1.50'
  output: '6.00'
  unit: '0.000001'
  currency: USD
`,
	"models/llm/acme-small.yaml":            "model: acme-small\nmodel_type: llm\nmodel_properties:\n  mode: chat\n  context_size: 8192\n",
	"models/text_embedding/acme-embed.yaml": "model: acme-embed\nmodel_type: text-embedding\nmodel_properties:\n  context_size: 8192\n  max_chunks: 16\n",
}

// modelPlugin packs the model plugin with the gotools binary.
func modelPlugin(tb testing.TB) []byte {
	tb.Helper()
	bin, err := gotoolsBinary("gotools")
	if err != nil {
		tb.Fatal(err)
	}
	dir := tb.TempDir()
	for name, body := range modelFiles {
		writeFile(tb, filepath.Join(dir, name), body)
	}
	if err := copyFile(bin, filepath.Join(dir, "bin", goruntime.GOARCH, "gotools")); err != nil {
		tb.Fatal(err)
	}
	data, _, err := pkgfmt.Pack(os.DirFS(dir), pkgfmt.DefaultLimits())
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// A daemon restarted on its data keeps listing the model provider as it
// was decoded (declarations are restored from their stored JSON).
func TestModelsAfterRestart(t *testing.T) {
	dir := t.TempDir()
	d, err := startDaemon(dir, api.Config{APIKey: testKey})
	if err != nil {
		t.Fatal(err)
	}
	d.MustInstall(t, modelPlugin(t))
	before := rawGet(t, d, "models")
	d.close()
	d, err = startDaemon(dir, api.Config{APIKey: testKey})
	if err != nil {
		t.Fatal(err)
	}
	defer d.close()
	if after := rawGet(t, d, "models"); after != before {
		t.Errorf("after a restart\n%s\nbefore\n%s", after, before)
	}
}

// modelZip zips the model plugin's declarations, with the files in edit
// replacing modelFiles, without validating them (as a packager other than
// ours could write them).
func modelZip(tb testing.TB, edit map[string]string) []byte {
	tb.Helper()
	files := maps.Clone(modelFiles)
	maps.Copy(files, edit)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range slices.Sorted(maps.Keys(files)) {
		w, err := zw.Create(name)
		if err != nil {
			tb.Fatal(err)
		}
		w.Write([]byte(files[name]))
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// writeFile writes body at path, making its folder.
func writeFile(tb testing.TB, path, body string) {
	tb.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		tb.Fatal(err)
	}
}

func TestModels(t *testing.T) {
	d := MustDaemon(t)
	ctx := context.Background()
	uid := d.MustInstall(t, modelPlugin(t))
	d.MustInstall(t, plugin(t, "gotools"))
	t.Run("List", func(t *testing.T) {
		list, err := d.c.Models(ctx, 1, 256)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 1 {
			t.Fatalf("models = %+v, want the model plugin only", list)
		}
		e := list[0]
		if e.PluginID != modelPluginID || e.Provider != "acme" || e.PluginUniqueIdentifier != uid || e.TenantID != "default" || e.ID == "" || e.CreatedAt.IsZero() {
			t.Errorf("entry = %+v", e)
		}
		p := e.Declaration
		if p == nil || len(p.Models) != 3 || p.Position["llm"][0] != "acme-large" || p.Description.English() != "Acme's models." {
			t.Fatalf("declaration = %+v", p)
		}
		large := p.Find(plugboard.ModelLLM, "acme-large")
		if large == nil || large.Pricing.Input != "1.5" || *large.ParameterRules[1].Max != 8192 || large.ParameterRules[0].Type != plugboard.RuleFloat {
			t.Errorf("acme-large = %+v", large)
		}
	})
	t.Run("Shape", func(t *testing.T) {
		body := rawGet(t, d, "models?page=1&page_size=256")
		for _, want := range []string{
			`{"code":0,"message":"success","data":[{"id":"`,
			`"provider":"acme","tenant_id":"default","plugin_unique_identifier":"` + uid + `","plugin_id":"acme/acme_models","declaration":{"provider":"acme"`,
			`"icon_large":null`, `"position":{"llm":["acme-large","acme-small"]}`,
			`{"model":"acme-embed","label":{"en_US":"acme-embed"},"model_type":"text-embedding","features":null,"fetch_from":"predefined-model"`,
			`"pricing":{"input":"1.5","output":"6","unit":"0.000001","currency":"USD"}`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("response lacks %s\n%s", want, body)
			}
		}
	})
	t.Run("Paged", func(t *testing.T) {
		list, err := d.c.Models(ctx, 2, 1)
		if err != nil || len(list) != 0 {
			t.Fatalf("page 2 = %+v, %v", list, err)
		}
	})
	t.Run("One", func(t *testing.T) {
		for _, name := range []string{"acme", modelPluginID + "/acme"} {
			e, err := d.c.Model(ctx, modelPluginID, name)
			if err != nil || e.Provider != "acme" || len(e.Declaration.Models) != 3 {
				t.Fatalf("model %s = %+v, %v", name, e, err)
			}
		}
	})
	t.Run("ErrModelNotFound", func(t *testing.T) {
		_, err := d.c.Model(ctx, modelPluginID, "other")
		MustClientError(t, err, http.StatusNotFound, apispec.ErrPluginNotFound)
		_, err = d.c.Model(ctx, gotoolID, "gotools")
		MustClientError(t, err, http.StatusNotFound, apispec.ErrPluginNotFound)
	})
	t.Run("ErrPageSize", func(t *testing.T) {
		_, err := d.c.Models(ctx, 1, 257)
		MustClientError(t, err, http.StatusBadRequest, apispec.ErrBadRequest)
	})
	t.Run("ErrBadModelYAML", func(t *testing.T) {
		bad := modelZip(t, map[string]string{"models/llm/acme-small.yaml": "model: acme-small\nmodel_type: chat\n"})
		_, err := d.c.UploadPackage(ctx, "bad.difypkg", bytes.NewReader(bad))
		ce := MustClientError(t, err, http.StatusBadRequest, apispec.ErrBadRequest)
		if want := `models/llm/acme-small.yaml: model_type (line 2): unknown model type "chat"`; !strings.Contains(ce.Message, want) {
			t.Errorf("message %q, want %q", ce.Message, want)
		}
	})
}
