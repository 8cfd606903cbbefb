package api_test

import (
	"bytes"
	"context"
	"testing"
	"testing/fstest"

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
	want := pkgfmt.Warning{File: "tools/pick.yaml", Field: "parameters[0].default", Line: 7,
		Msg: `default "blue" is not one of the options ["red"]`}
	if len(up.Warnings) != 1 || up.Warnings[0] != want {
		t.Fatalf("warnings = %+v, want %+v", up.Warnings, want)
	}
	if up.Manifest == nil || up.Manifest.Tool.Tools[0].Parameters[0].Default != "blue" {
		t.Errorf("manifest = %+v", up.Manifest)
	}
}
