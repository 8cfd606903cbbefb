package pkgfmt_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/plugboard/plugboard"
)

// A chat tool that declares its "content" parameter twice, as one official
// Discord plugin does.
const sendMessageTool = `identity:
  name: send_message
  author: acme
  label:
    en_US: Send message
description:
  human:
    en_US: Posts a message to a channel.
  llm: Posts a message to a chat channel through a webhook.
parameters:
  - name: content
    type: string
    required: true
    form: llm
    label:
      en_US: Content
    human_description:
      en_US: The message text
  - name: username
    type: string
    form: form
    label:
      en_US: Username
    human_description:
      en_US: Overrides the webhook's name
  - name: content
    type: string
    required: false
    form: form
    label:
      en_US: Content
    human_description:
      en_US: The message text (again)
extra:
  python:
    source: tools/send_message.py
`

// A search tool whose select default is not among its options, as one
// official DuckDuckGo plugin's is.
const searchTool = `identity:
  name: search
  author: acme
  label:
    en_US: Search
description:
  human:
    en_US: Searches the web.
  llm: Searches the web for a query.
parameters:
  - name: query
    type: string
    required: true
    form: llm
    label:
      en_US: Query
    human_description:
      en_US: What to search for
  - name: timelimit
    type: select
    required: false
    default: none
    form: form
    label:
      en_US: Time limit
    human_description:
      en_US: How recent the results are
    options:
      - value: d
        label:
          en_US: Day
      - value: w
        label:
          en_US: Week
extra:
  python:
    source: tools/search.py
`

// A tool with an option whose value is empty, as one official Front plugin
// has, and a label with extra keys inside it, as one official Jiandaoyun
// plugin has (a mis-indented human_description under label).
const listTool = `identity:
  name: list_items
  author: acme
  label:
    en_US: List items
    zh_Hans: 列表
description:
  human:
    en_US: Lists items.
  llm: Lists items of a collection.
parameters:
  - name: status
    type: select
    required: false
    form: form
    label:
      en_US: Status
      zh_Hant: 狀態
      human_description:
        en_US: Which items to list
    human_description:
      en_US: Which items to list
    options:
      - value: ""
        label:
          en_US: Any
      - value: open
        label:
          en_US: Open
extra:
  python:
    source: tools/list_items.py
`

// lenientFiles is the Python plugin with the three odd tools above added.
func lenientFiles(t *testing.T) files {
	return pythonFiles().
		edit(t, "provider/weather.yaml", "  - tools/forecast.yaml\n",
			"  - tools/forecast.yaml\n  - tools/send_message.yaml\n  - tools/search.yaml\n  - tools/list_items.yaml\n").
		with("tools/send_message.yaml", sendMessageTool).
		with("tools/search.yaml", searchTool).
		with("tools/list_items.yaml", listTool)
}

func TestDecodeWarnings(t *testing.T) {
	p := MustDecode(t, MustZip(t, lenientFiles(t), ""))
	want := []plugboard.Warning{
		{File: "tools/send_message.yaml", Field: "parameters[2].name", Line: 26},
		{File: "tools/search.yaml", Field: "parameters[1].default", Line: 22},
		{File: "tools/list_items.yaml", Field: "parameters[0].label.zh_Hant", Line: 18},
		{File: "tools/list_items.yaml", Field: "parameters[0].label.human_description", Line: 19},
		{File: "tools/list_items.yaml", Field: "parameters[0].options[0].value", Line: 24},
	}
	if len(p.Warnings) != len(want) {
		t.Fatalf("warnings = %v, want %d", p.Warnings, len(want))
	}
	for i, w := range want {
		got := p.Warnings[i]
		if got.File != w.File || got.Field != w.Field || got.Line != w.Line || got.Msg == "" {
			t.Errorf("warning %d = %+v, want %s %s line %d", i, got, w.File, w.Field, w.Line)
		}
		if strings.Contains(got.Msg, "Go ") || strings.Contains(got.Msg, "unmarshal") {
			t.Errorf("warning %d reads as a Go error: %s", i, got.Msg)
		}
	}
	t.Run("KeepsBothDuplicates", func(t *testing.T) {
		params := p.Manifest.Tool.Tools[1].Parameters
		if len(params) != 3 || params[0].Name != "content" || params[2].Name != "content" {
			t.Errorf("parameters = %+v", params)
		}
	})
	t.Run("DropsExtraLabelKeys", func(t *testing.T) {
		label := p.Manifest.Tool.Tools[3].Parameters[0].Label
		if len(label) != 1 || label.English() != "Status" {
			t.Errorf("label = %v, want only en_US", label)
		}
	})
	t.Run("WarningFormat", func(t *testing.T) {
		got := p.Warnings[1].String()
		want := `tools/search.yaml: parameters[1].default (line 22): default "none" is not one of the options ["d" "w"]`
		if got != want {
			t.Errorf("String() = %s\nwant       %s", got, want)
		}
	})
	t.Run("NoWarningsForCleanPackage", func(t *testing.T) {
		if w := MustDecode(t, MustZip(t, pythonFiles(), "")).Warnings; len(w) != 0 {
			t.Errorf("warnings = %v", w)
		}
	})
	t.Run("MinOverMax", func(t *testing.T) {
		zf := pythonFiles().edit(t, "tools/forecast.yaml", "min: 1", "min: 20")
		w := MustDecode(t, MustZip(t, zf, "")).Warnings
		if len(w) != 1 || w[0].Field != "parameters[1].min" || w[0].Line != 31 || !strings.Contains(w[0].Msg, "min 20 is greater than max 14") {
			t.Errorf("warnings = %v", w)
		}
	})
	t.Run("SelectWithoutOptions", func(t *testing.T) {
		zf := binaryFiles().edit(t, "tools/render.yaml", "    options:\n", "    choices:\n")
		w := MustDecode(t, MustZip(t, zf, "")).Warnings
		if len(w) != 1 || w[0].Field != "parameters[0].options" || w[0].Line != 4 {
			t.Errorf("warnings = %v", w)
		}
	})
}

func TestDecodeTypeErrors(t *testing.T) {
	cases := []struct {
		name, file, old, new, field, want string
		line                              int
	}{
		{"ErrLocaleNotText", "tools/forecast.yaml", "    en_US: City name\n", "    en_US: City name\n    zh_Hans:\n      - 城市\n",
			"parameters[0].human_description.zh_Hans", "must be a text, not a list", 17},
		{"ErrParametersNotList", "tools/forecast.yaml", "parameters:\n- form: llm", "parameters:\n  form: llm\nx:\n- form: llm",
			"parameters", "must be a list, not a mapping", 13},
		{"ErrMinNotNumber", "tools/forecast.yaml", "min: 1", "min: one",
			"parameters[1].min", "must be a number, not a text", 31},
		{"ErrRequiredNotBool", "provider/weather.yaml", "    required: true\n", "    required: [yes]\n",
			"credentials_for_provider.api_token.required", "must be true or false, not a list", 16},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			zf := pythonFiles().edit(t, c.file, c.old, c.new)
			e := MustReject(t, decodeErr(t, MustZip(t, zf, "")), c.file, c.field, c.want)
			if e.Line != c.line {
				t.Errorf("line = %d, want %d (%v)", e.Line, c.line, e)
			}
			if strings.Contains(e.Error(), "Go ") || strings.Contains(e.Error(), "unmarshal") {
				t.Errorf("error reads as a Go error: %v", e)
			}
		})
	}
}

func TestDeclarationShapes(t *testing.T) {
	t.Run("OAuthSchema", func(t *testing.T) {
		zf := pythonFiles().edit(t, "provider/weather.yaml", "extra:\n", oauthSchema+"extra:\n")
		m := MustDecode(t, MustZip(t, zf, "")).Manifest
		o := m.Tool.OAuthSchema
		if o == nil || len(o.ClientSchema) != 2 || o.ClientSchema[1].Name != "client_secret" || len(o.CredentialsSchema) != 1 {
			t.Fatalf("oauth_schema = %+v", o)
		}
		data := mustJSON(t, m)
		for _, want := range []string{`"oauth_schema":{"client_schema":[{"name":"client_id"`, `"credentials_schema":[{"name":"access_token"`} {
			if !strings.Contains(data, want) {
				t.Errorf("declaration lacks %s: %s", want, data)
			}
		}
	})
	t.Run("TagsEmptyList", func(t *testing.T) {
		m := MustDecode(t, MustZip(t, binaryFiles(), "")).Manifest
		data := mustJSON(t, m) + mustJSON(t, MustDecode(t, MustZip(t, pythonFiles(), "")).Manifest)
		for _, want := range []string{`"tags":[]`, `"options":[]`, `"show_on":[]`} {
			if !strings.Contains(data, want) {
				t.Errorf("declaration lacks %s: %s", want, data)
			}
		}
		if strings.Contains(data, `"tags":null`) {
			t.Errorf("declaration has null tags: %s", data)
		}
	})
	t.Run("ProviderTagsFromManifest", func(t *testing.T) {
		zf := pythonFiles().edit(t, "provider/weather.yaml", "  tags:\n    - weather\n", "")
		m := MustDecode(t, MustZip(t, zf, "")).Manifest
		if got := m.Tool.Identity.Tags; len(got) != 1 || got[0] != "weather" {
			t.Errorf("provider tags = %v, want the manifest's [weather]", got)
		}
	})
	t.Run("StoredDeclarationGetsDefaults", func(t *testing.T) {
		var m plugboard.Manifest
		if err := json.Unmarshal([]byte(`{"name":"x","tags":null,"tool":{"identity":{"name":"x"},"tools":[{"parameters":[{"name":"a"}]}]}}`), &m); err != nil {
			t.Fatal(err)
		}
		data := mustJSON(t, &m)
		for _, want := range []string{`"tags":[]`, `"credentials_schema":[]`, `"options":[]`} {
			if !strings.Contains(data, want) {
				t.Errorf("declaration lacks %s: %s", want, data)
			}
		}
		if err := json.Unmarshal([]byte(`{"name":"x","tags":["search"],"tool":{"identity":{"name":"x"}}}`), &m); err != nil {
			t.Fatal(err)
		}
		if data := mustJSON(t, m.Tool); !strings.Contains(data, `"tags":["search"]`) {
			t.Errorf("stored provider without tags did not take the manifest's: %s", data)
		}
	})
}

const oauthSchema = `oauth_schema:
  client_schema:
    - name: client_id
      type: secret-input
      required: true
      label:
        en_US: Client ID
    - name: client_secret
      type: secret-input
      required: true
      label:
        en_US: Client secret
  credentials_schema:
    - name: access_token
      type: secret-input
      label:
        en_US: Access token
`

func mustJSON(tb testing.TB, v any) string {
	tb.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return string(data)
}
