package api_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/pkgfmt"
)

// warnedPackage is a small binary-runner plugin whose one select parameter
// has a default that is not among its options: Dify accepts it, we warn.
func warnedPackage(tb testing.TB) []byte {
	tb.Helper()
	src := fstest.MapFS{
		"manifest.yaml": {Data: []byte(`version: 0.0.1
type: plugin
author: acme
name: warned
label: {en_US: Warned}
description: {en_US: A plugin with a warning}
icon: icon.svg
created_at: "2026-01-01T00:00:00Z"
resource: {memory: 268435456}
plugins: {tools: [provider/warned.yaml]}
meta: {version: 0.0.1, arch: [amd64, arm64], runner: {language: binary, entrypoint: warned}}
`)},
		"_assets/icon.svg": {Data: []byte("<svg/>")},
		"provider/warned.yaml": {Data: []byte(`identity: {author: acme, name: warned, label: {en_US: Warned}, description: {en_US: Warned}, icon: icon.svg}
tools: [tools/pick.yaml]
`)},
		"tools/pick.yaml": {Data: []byte(`identity: {name: pick, author: acme, label: {en_US: Pick}}
description: {human: {en_US: Picks}, llm: Picks}
parameters:
  - name: color
    type: select
    form: form
    default: blue
    label: {en_US: Color}
    human_description: {en_US: Colour}
    options:
      - {value: red, label: {en_US: Red}}
`)},
		"bin/amd64/warned": {Data: []byte("\x7fELF"), Mode: 0o755},
		"bin/arm64/warned": {Data: []byte("\x7fELF"), Mode: 0o755},
	}
	data, _, err := pkgfmt.Pack(src, pkgfmt.DefaultLimits())
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

func TestUploadWarnings(t *testing.T) {
	d, _ := MustShared(t)
	up, err := d.c.UploadPackage(context.Background(), "warned.difypkg", bytes.NewReader(warnedPackage(t)))
	if err != nil {
		t.Fatal(err)
	}
	want := plugboard.Warning{File: "tools/pick.yaml", Field: "parameters[0].default", Line: 7,
		Msg: `default "blue" is not one of the options ["red"]`}
	if len(up.Warnings) != 1 || up.Warnings[0] != want {
		t.Fatalf("warnings = %+v, want %+v", up.Warnings, want)
	}
	if up.Manifest == nil || up.Manifest.Tool.Tools[0].Parameters[0].Default != "blue" {
		t.Errorf("manifest = %+v", up.Manifest)
	}
}

// rawGet fetches a management route as JSON text.
func rawGet(tb testing.TB, d *daemon, path string) string {
	tb.Helper()
	req, err := http.NewRequest(http.MethodGet, d.srv.URL+"/plugin/default/management/"+path, nil)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("X-Api-Key", testKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("GET %s: %d %s", path, resp.StatusCode, out)
	}
	return string(out)
}

// TestDeclarationShapes checks the declarations the management routes give
// against Dify's: lists are [] rather than null, oauth_schema is there, and a
// provider without tags has the manifest's.
func TestDeclarationShapes(t *testing.T) {
	d, _ := MustShared(t)
	up, err := d.c.UploadPackage(context.Background(), "warned.difypkg", bytes.NewReader(warnedPackage(t)))
	if err != nil {
		t.Fatal(err)
	}
	bodies := map[string]string{
		"list":   rawGet(t, d, "list?page=1&page_size=10"),
		"tools":  rawGet(t, d, "tools?page=1&page_size=10"),
		"decode": rawGet(t, d, "decode/from_identifier?plugin_unique_identifier="+url.QueryEscape(up.UniqueIdentifier)),
	}
	for name, body := range bodies {
		for _, bad := range []string{`"tags":null`, `"credentials_schema":null`, `"options":null`, `"show_on":null`} {
			if strings.Contains(body, bad) {
				t.Errorf("%s has %s: %s", name, bad, body)
			}
		}
	}
	for name, want := range map[string]string{"list": `"oauth_schema":null`, "tools": `"show_on":[]`, "decode": `"credentials_schema":[]`} {
		if !strings.Contains(bodies[name], want) {
			t.Errorf("%s lacks %s: %s", name, want, bodies[name])
		}
	}
	if !strings.Contains(bodies["decode"], `"tags":[]`) || !strings.Contains(bodies["decode"], `"warnings":[]`) {
		t.Errorf("decode lacks tags [] or warnings []: %s", bodies["decode"])
	}
}
