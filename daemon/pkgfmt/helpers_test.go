package pkgfmt_test

import (
	"archive/zip"
	"bytes"
	"errors"
	"io/fs"
	"strings"
	"testing"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/pkgfmt"
)

// zfile is one entry of a test zip.
type zfile struct {
	name string
	body string
	mode fs.FileMode // 0 means 0644
}

// files is the ordered content of a test package.
type files []zfile

// with returns a copy with name's body replaced (or added).
func (zf files) with(name, body string) files {
	out := append(files(nil), zf...)
	for i := range out {
		if out[i].name == name {
			out[i].body = body
			return out
		}
	}
	return append(out, zfile{name: name, body: body})
}

// edit returns a copy with old replaced by new in name's body; it fails the
// test when old is not there, so a fixture change cannot silently void a case.
func (zf files) edit(tb testing.TB, name, old, new string) files {
	tb.Helper()
	for _, f := range zf {
		if f.name == name {
			if !strings.Contains(f.body, old) {
				tb.Fatalf("%s has no %q", name, old)
			}
			return zf.with(name, strings.Replace(f.body, old, new, 1))
		}
	}
	tb.Fatalf("no file %s", name)
	return nil
}

// without returns a copy without name.
func (zf files) without(name string) files {
	var out files
	for _, f := range zf {
		if f.name != name {
			out = append(out, f)
		}
	}
	return out
}

// MustZip builds a zip of the files, in order, with an optional comment.
func MustZip(tb testing.TB, zf files, comment string) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range zf {
		h := &zip.FileHeader{Name: f.name, Method: zip.Deflate}
		mode := f.mode
		if mode == 0 {
			mode = 0o644
		}
		h.SetMode(mode)
		w, err := zw.CreateHeader(h)
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := w.Write([]byte(f.body)); err != nil {
			tb.Fatal(err)
		}
	}
	if comment != "" {
		if err := zw.SetComment(comment); err != nil {
			tb.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// MustDecode decodes a package that must be valid.
func MustDecode(tb testing.TB, data []byte) *pkgfmt.Package {
	tb.Helper()
	p, err := pkgfmt.Decode(data, pkgfmt.DefaultLimits())
	if err != nil {
		tb.Fatalf("Decode: %v", err)
	}
	return p
}

// MustReject checks that err is a *pkgfmt.Error with code invalid, naming
// file and field, and that its message holds want; it returns the error.
func MustReject(tb testing.TB, err error, file, field, want string) *pkgfmt.Error {
	tb.Helper()
	if err == nil {
		tb.Fatal("Decode accepted the package, want a rejection")
	}
	var pe *pkgfmt.Error
	if !errors.As(err, &pe) {
		tb.Fatalf("error %T %v is not a *pkgfmt.Error", err, err)
	}
	if code := plugboard.ErrorCode(err); code != plugboard.EINVALID {
		tb.Errorf("plugboard.ErrorCode = %q, want %q", code, plugboard.EINVALID)
	}
	if pe.File != file || pe.Field != field {
		tb.Errorf("error names file %q field %q, want %q %q (%v)", pe.File, pe.Field, file, field, err)
	}
	if !strings.Contains(err.Error(), want) {
		tb.Errorf("error %q does not say %q", err, want)
	}
	return pe
}

const pythonManifest = `version: 0.3.1
type: plugin
author: acme
name: weather_lookup
label:
  en_US: Weather lookup
  zh_Hans: 天气
description:
  en_US: Looks up the weather for a city.
  pt_BR: Consulta o tempo.
icon: icon.svg
created_at: "2025-03-01T10:00:00.123456789Z"
resource:
  memory: 1048576
  permission:
    tool:
      enabled: true
    model:
      enabled: true
      llm: true
plugins:
  tools:
    - provider/weather.yaml
meta:
  arch:
    - amd64
    - arm64
  runner:
    entrypoint: main
    language: python
    version: "3.12"
  version: 0.0.1
tags:
  - weather
verified: true
`

const pythonProvider = `credentials_for_provider:
  endpoint:
    label:
      en_US: Service URL
    placeholder:
      en_US: https://weather.example/api
    required: false
    default: https://weather.example/api
    type: text-input
  api_token:
    help:
      en_US: Get a token from the weather service
      zh_Hans: 获取令牌
    label:
      en_US: API token
    required: true
    type: secret-input
    url: https://weather.example/tokens
  units:
    label:
      en_US: Units
    type: select
    default: metric
    options:
      - value: metric
        label: {en_US: Metric}
      - value: imperial
        label: {en_US: Imperial}
extra:
  python:
    source: provider/weather.py
identity:
  author: Jane Q. Developer
  description:
    en_US: Weather
  icon: icon.svg
  label:
    en_US: Weather
  name: weather
  tags:
    - weather
tools:
  - tools/forecast.yaml
`

const forecastTool = `description:
  human:
    en_US: Forecast for the next days.
  llm: Returns the forecast for a city.
extra:
  python:
    source: tools/forecast.py
identity:
  author: Jane Q. Developer
  label:
    en_US: Forecast
  name: forecast
parameters:
- form: llm
  human_description:
    en_US: City name
  label:
    en_US: City
  llm_description: The city to look up
  name: city
  required: true
  type: string
- default: 3
  form: form
  human_description:
    en_US: How many days
  label:
    en_US: Days
  name: days
  type: number
  min: 1
  max: 14
`

// pythonFiles is a Python tool plugin shaped like Dify's official ones.
func pythonFiles() files {
	return files{
		{name: "manifest.yaml", body: pythonManifest},
		{name: "README.md", body: "# Weather lookup\n"},
		{name: "_assets/icon.svg", body: "<svg/>"},
		{name: "main.py", body: "print('hi')\n"},
		{name: "provider/weather.yaml", body: pythonProvider},
		{name: "provider/weather.py", body: "class Weather: pass\n"},
		{name: "tools/forecast.yaml", body: forecastTool},
		{name: "tools/forecast.py", body: "class Forecast: pass\n"},
		{name: "pyproject.toml", body: "[project]\nname = 'weather'\n"},
		{name: ".env.example", body: "INSTALL_METHOD=remote\n"},
	}
}

const binaryManifest = `version: "1.0"
type: plugin
author: plugboard
name: gotools
label: {en_US: Go tools}
description: {en_US: Tools written in Go}
icon: icon.png
created_at: "2026-01-01T00:00:00Z"
resource: {memory: 268435456}
plugins:
  tools: [provider/gotools.yaml]
meta:
  version: 0.0.1
  arch: [amd64, arm64]
  runner: {language: binary, entrypoint: gotools}
`

const binaryProvider = `identity:
  author: plugboard
  name: gotools
  label: {en_US: Go tools}
  description: {en_US: Tools written in Go}
  icon: icon.png
credentials_for_provider:
  - name: api_key
    type: secret-input
    required: true
    label: {en_US: API key}
tools: [tools/whoami.yaml, tools/render.yaml]
`

const whoamiTool = `identity: {name: whoami, author: plugboard, label: {en_US: Who am I}}
description: {human: {en_US: Says who you are}, llm: Says who the caller is}
`

const renderTool = `identity: {name: render_png, author: plugboard, label: {en_US: Render PNG}}
description: {human: {en_US: Renders an image}, llm: Renders a PNG}
parameters:
  - name: color
    type: select
    form: form
    default: red
    label: {en_US: Color}
    human_description: {en_US: Fill colour}
    options:
      - {value: red, label: {en_US: Red}}
      - {value: green, label: {en_US: Green}}
`

// binaryFiles is a Go (binary runner) plugin with an executable per arch.
func binaryFiles() files {
	return files{
		{name: "manifest.yaml", body: binaryManifest},
		{name: "_assets/icon.png", body: "png"},
		{name: "provider/gotools.yaml", body: binaryProvider},
		{name: "tools/whoami.yaml", body: whoamiTool},
		{name: "tools/render.yaml", body: renderTool},
		{name: "bin/amd64/gotools", body: "\x7fELF amd64", mode: 0o755},
		{name: "bin/arm64/gotools", body: "\x7fELF arm64", mode: 0o755},
	}
}
