package pkgfmt_test

import (
	"strings"
	"testing"

	"github.com/plugboard/plugboard"
)

// modelProvider is a provider yaml with both configurate methods, both
// credential forms (a show_on on the model type among them) and a models
// mapping of globs and a position file.
const modelProvider = `provider: acme
label:
  en_US: Acme AI
icon_small:
  en_US: icon_s.svg
icon_large:
  en_US: icon_l.svg
background: "#FFF0E0"
help:
  title:
    en_US: Get an API key
  url:
    en_US: https://acme.example/keys
supported_model_types:
  - llm
  - text-embedding
configurate_methods:
  - predefined-model
  - customizable-model
provider_credential_schema:
  credential_form_schemas:
    - variable: api_key
      label:
        en_US: API Key
      type: secret-input
      required: true
model_credential_schema:
  model:
    label:
      en_US: Model Name
    placeholder:
      en_US: Enter the model's name
  credential_form_schemas:
    - variable: mode
      label:
        en_US: Completion mode
      type: select
      default: chat
      show_on:
        - variable: __model_type
          value: llm
      options:
        - value: chat
          label:
            en_US: Chat
        - value: completion
          label:
            en_US: Completion
    - variable: context_size
      label:
        en_US: Context size
      type: text-input
      default: 4096
models:
  llm:
    predefined:
      - models/llm/*.yaml
    position: models/llm/_position.yaml
  text_embedding:
    predefined:
      - models/text_embedding/*.yaml
extra:
  python:
    provider_source: provider/acme.py
    model_sources:
      - models/llm/llm.py
`

// chatModel is an LLM with templated and plain parameter rules and pricing.
const chatModel = `model: acme-chat
label:
  en_US: Acme Chat
model_type: llm
features:
  - tool-call
  - vision
model_properties:
  mode: chat
  context_size: 128000
parameter_rules:
  - name: temperature
    use_template: temperature
  - name: max_tokens
    use_template: max_tokens
    default: 512
    max: 8192
  - name: response_format
    label:
      en_US: Response Format
    type: string
    options:
      - text
      - json_object
pricing:
  input: '2.00'
  output: 8
  unit: '0.000001'
  currency: USD
`

// modelFiles is a valid model plugin.
func modelFiles() files {
	return files{
		{name: "manifest.yaml", body: kindManifest("acme", "  models:\n    - provider/acme.yaml\n")},
		{name: "_assets/icon.svg", body: "<svg/>"},
		{name: "_assets/icon_s.svg", body: "<svg/>"},
		{name: "_assets/icon_l.svg", body: "<svg/>"},
		{name: "provider/acme.yaml", body: modelProvider},
		{name: "provider/acme.py", body: "# provider\n"},
		{name: "models/llm/llm.py", body: "# llm\n"},
		{name: "models/llm/_position.yaml", body: "- acme-mini\n- acme-chat\n"},
		{name: "models/llm/acme-chat.yaml", body: chatModel},
		{name: "models/llm/acme-mini.yaml", body: "model: acme-mini\nmodel_type: llm\nmodel_properties:\n  mode: completion\ndeprecated: true\n"},
		{name: "models/text_embedding/embed.yaml", body: "model: acme-embed\nmodel_type: text-embedding\nmodel_properties:\n  context_size: 8192\n  max_chunks: 16\n"},
	}
}

func TestDecodeModels(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		p := MustDecode(t, MustZip(t, modelFiles(), ""))
		m := p.Manifest
		if m.Category() != plugboard.CategoryModel || m.Model == nil || len(p.Warnings) != 0 {
			t.Fatalf("category %q, model %+v, warnings %v", m.Category(), m.Model, p.Warnings)
		}
		mp := m.Model
		if len(mp.Models) != 3 || mp.Models[0].Model != "acme-chat" || mp.Models[1].Model != "acme-mini" || mp.Models[2].ModelType != plugboard.ModelTextEmbedding {
			t.Fatalf("models = %+v", mp.Models)
		}
		if mp.Extra.Python.ProviderSource != "provider/acme.py" || mp.ModelFiles["llm"].Position != "models/llm/_position.yaml" {
			t.Errorf("extra = %+v, model files = %+v", mp.Extra, mp.ModelFiles)
		}
		if got := mp.Find(plugboard.ModelLLM, "acme-chat"); got == nil || *got.ParameterRules[1].Max != 8192 || got.ParameterRules[1].Default != uint64(512) {
			t.Errorf("acme-chat = %+v", got)
		}
		data := mustJSON(t, m)
		for _, want := range []string{
			`"model":{"provider":"acme","label":{"en_US":"Acme AI"},"description":{"en_US":"A plugin of acme."},"icon_small":{"en_US":"icon_s.svg"},"icon_large":{"en_US":"icon_l.svg"},"icon_small_dark":null,"icon_large_dark":null,"background":"#FFF0E0","help":{"title":{"en_US":"Get an API key"},"url":{"en_US":"https://acme.example/keys"}}`,
			`"supported_model_types":["llm","text-embedding"],"configurate_methods":["predefined-model","customizable-model"]`,
			`"provider_credential_schema":{"credential_form_schemas":[{"variable":"api_key","label":{"en_US":"API Key"},"type":"secret-input","required":true,"default":null,"options":[],"placeholder":null,"max_length":0,"show_on":[]}]}`,
			`"model":{"label":{"en_US":"Model Name"},"placeholder":{"en_US":"Enter the model's name"}}`,
			`"default":"chat","options":[{"label":{"en_US":"Chat"},"value":"chat","show_on":[]}`,
			`"show_on":[{"variable":"__model_type","value":"llm"}]`,
			`"variable":"context_size","label":{"en_US":"Context size"},"type":"text-input","required":false,"default":"4096"`,
			`"position":{"llm":["acme-mini","acme-chat"]}`,
			`{"model":"acme-chat","label":{"en_US":"Acme Chat"},"model_type":"llm","features":["tool-call","vision"],"fetch_from":"predefined-model","model_properties":{"context_size":128000,"mode":"chat"},"deprecated":false`,
			`{"name":"temperature","use_template":"temperature","label":{"en_US":"temperature"},"type":"float","help":{"en_US":"Controls randomness.`,
			`"required":false,"default":0,"min":0,"max":1,"precision":2,"options":[]}`,
			`{"name":"max_tokens","use_template":"max_tokens","label":{"en_US":"max_tokens"},"type":"int","help":{"en_US":"Specifies the upper limit`,
			`"default":512,"min":1,"max":8192,"precision":0,"options":[]}`,
			`{"name":"response_format","use_template":null,"label":{"en_US":"Response Format"},"type":"string","help":null,"required":false,"default":null,"min":null,"max":null,"precision":null,"options":["text","json_object"]}`,
			`"pricing":{"input":"2","output":"8","unit":"0.000001","currency":"USD"}`,
			`{"model":"acme-mini","label":{"en_US":"acme-mini"},"model_type":"llm","features":null,"fetch_from":"predefined-model","model_properties":{"mode":"completion"},"deprecated":true,"parameter_rules":[],"pricing":null}`,
		} {
			if !strings.Contains(data, want) {
				t.Errorf("declaration lacks %s\n%s", want, data)
			}
		}
		if strings.Contains(data, "provider_source") || strings.Contains(data, "predefined\":") {
			t.Errorf("extra or the models mapping leaked into the declaration:\n%s", data)
		}
	})
	t.Run("OKInlineModels", func(t *testing.T) {
		zf := modelFiles().edit(t, "provider/acme.yaml", modelProvider[strings.Index(modelProvider, "models:\n"):strings.Index(modelProvider, "extra:")],
			"models:\n  - model: inline\n    model_type: llm\n    model_properties:\n      mode: chat\nposition:\n  llm: [inline]\n")
		m := MustDecode(t, MustZip(t, zf, "")).Manifest.Model
		if len(m.Models) != 1 || m.Models[0].Model != "inline" || m.Position["llm"][0] != "inline" || m.ModelFiles != nil {
			t.Errorf("model = %+v", m)
		}
	})
	t.Run("OKCustomizableOnly", func(t *testing.T) {
		zf := files{
			{name: "manifest.yaml", body: kindManifest("llm", "  models:\n    - provider/llm.yaml\n")},
			{name: "_assets/icon.svg", body: "<svg/>"},
			{name: "provider/llm.yaml", body: "provider: llm\nlabel:\n  en_US: LLM\nsupported_model_types: [llm]\nconfigurate_methods: [customizable-model]\n" +
				"model_credential_schema:\n  model:\n    label:\n      en_US: Model\nmodels:\n  llm:\n    predefined:\n      - models/llm/*.yaml\n"},
		}
		p := MustDecode(t, MustZip(t, zf, ""))
		m := p.Manifest
		if m.Category() != plugboard.CategoryModel || m.Tool != nil || len(m.Model.Models) != 0 {
			t.Errorf("manifest = %+v", m)
		}
		data := mustJSON(t, m)
		if !strings.Contains(data, `"position":{},"models":[]`) || !strings.Contains(data, `"model_credential_schema":{"model":{"label":{"en_US":"Model"},"placeholder":null},"credential_form_schemas":[]}`) {
			t.Errorf("declaration = %s", data)
		}
		if len(p.Warnings) != 1 || p.Warnings[0].Field != "models.llm.predefined[0]" || p.Warnings[0].Line != 13 {
			t.Errorf("warnings = %v", p.Warnings)
		}
	})
}

func TestDecodeModelsBad(t *testing.T) {
	const prov, chat = "provider/acme.yaml", "models/llm/acme-chat.yaml"
	cases := []struct {
		name              string
		files             files
		file, field, want string
		line              int
	}{
		{"ErrProviderMissing", modelFiles().without(prov),
			"manifest.yaml", "plugins.models[0]", `file "provider/acme.yaml" is not in the package`, 20},
		{"ErrWithTrigger", modelFiles().edit(t, "manifest.yaml", "  models:\n", "  triggers: [provider/acme.yaml]\n  models:\n"),
			"manifest.yaml", "plugins.models", "a model plugin declares nothing else", 20},
		{"ErrWithTool", modelFiles().edit(t, "manifest.yaml", "  models:\n", "  tools: [provider/acme.yaml]\n  models:\n"),
			"manifest.yaml", "plugins.models", "cannot be combined", 20},
		{"ErrNoProvider", modelFiles().edit(t, prov, "provider: acme\n", ""),
			prov, "provider", "required", 0},
		{"ErrNoLabel", modelFiles().edit(t, prov, "label:\n  en_US: Acme AI\n", "label:\n  zh_Hans: Acme\n"),
			prov, "label.en_US", "required", 2},
		{"ErrNoModelTypes", modelFiles().edit(t, prov, "supported_model_types:\n  - llm\n  - text-embedding\n", ""),
			prov, "supported_model_types", "required (a list of llm, text-embedding", 0},
		{"ErrModelTypeUnderscore", modelFiles().edit(t, prov, "  - text-embedding\n", "  - text_embedding\n"),
			prov, "supported_model_types[1]", `unknown model type "text_embedding"`, 16},
		{"ErrConfigurateMethod", modelFiles().edit(t, prov, "  - customizable-model\n", "  - custom\n"),
			prov, "configurate_methods[1]", `unknown configurate method "custom"`, 19},
		{"ErrIconMissing", modelFiles().without("_assets/icon_l.svg"),
			prov, "icon_large.en_US", `icon "icon_l.svg" is not in the package`, 7},
		{"ErrFormType", modelFiles().edit(t, prov, "type: secret-input", "type: password"),
			prov, "provider_credential_schema.credential_form_schemas[0].type", `unknown field type "password"`, 25},
		{"ErrFormNoVariable", modelFiles().edit(t, prov, "    - variable: api_key\n      label:", "    - label:"),
			prov, "provider_credential_schema.credential_form_schemas[0].variable", "required", 22},
		{"ErrFormNoLabel", modelFiles().edit(t, prov, "      label:\n        en_US: API Key\n", ""),
			prov, "provider_credential_schema.credential_form_schemas[0].label", "required", 22},
		{"ErrShowOnValue", modelFiles().edit(t, prov, "          value: llm\n", ""),
			prov, "model_credential_schema.credential_form_schemas[0].show_on[0].value", "required", 40},
		{"ErrOptionValue", modelFiles().edit(t, prov, "        - value: completion\n", "        - value: ''\n"),
			prov, "model_credential_schema.credential_form_schemas[0].options[1].value", "required", 46},
		{"ErrModelFieldLabel", modelFiles().edit(t, prov, "    label:\n      en_US: Model Name\n", ""),
			prov, "model_credential_schema.model.label", "required", 28},
		{"ErrFormsNotList", modelFiles().edit(t, prov, "provider_credential_schema:\n  credential_form_schemas:\n", "provider_credential_schema:\n  credential_form_schemas: 3\n  x:\n"),
			prov, "provider_credential_schema.credential_form_schemas", "must be a list, not a number", 21},
		{"ErrBadGlob", modelFiles().edit(t, prov, "      - models/llm/*.yaml\n", "      - models/llm/[.yaml\n"),
			prov, "models.llm.predefined[0]", `"models/llm/[.yaml" is not a valid glob`, 57},
		{"ErrPositionFileMissing", modelFiles().without("models/llm/_position.yaml"),
			prov, "models.llm.position", `position file "models/llm/_position.yaml" is not in the package`, 58},
		{"ErrPositionNotList", modelFiles().with("models/llm/_position.yaml", "llm: acme-chat\n"),
			"models/llm/_position.yaml", "", "must be a yaml list of model names", 1},
		{"ErrPositionItem", modelFiles().with("models/llm/_position.yaml", "- acme-chat\n- [acme-mini]\n"),
			"models/llm/_position.yaml", "[1]", "must be a model name, not a list", 2},
		{"ErrGlobMatchesCode", modelFiles().edit(t, prov, "      - models/llm/*.yaml\n", "      - models/llm/*\n").with("models/llm/llm.py", "import os\nclass X: pass\n"),
			"models/llm/llm.py", "", "bad yaml", 1},
		{"ErrModelNoName", modelFiles().edit(t, chat, "model: acme-chat\n", ""),
			chat, "model", "required", 0},
		{"ErrModelNoType", modelFiles().edit(t, chat, "model_type: llm\n", ""),
			chat, "model_type", "required (one of llm", 0},
		{"ErrModelType", modelFiles().edit(t, chat, "model_type: llm\n", "model_type: chat\n"),
			chat, "model_type", `unknown model type "chat"`, 4},
		{"ErrFetchFrom", modelFiles().edit(t, chat, "model_type: llm\n", "model_type: llm\nfetch_from: remote\n"),
			chat, "fetch_from", `unknown configurate method "remote"`, 5},
		{"ErrUnknownTemplate", modelFiles().edit(t, chat, "use_template: temperature", "use_template: temp"),
			chat, "parameter_rules[0].use_template", `unknown template "temp" (want one of frequency_penalty, json_schema`, 13},
		{"ErrRuleNoName", modelFiles().edit(t, chat, "  - name: temperature\n    use_template", "  - use_template"),
			chat, "parameter_rules[0].name", "required", 12},
		{"ErrRuleNoType", modelFiles().edit(t, chat, "    type: string\n", ""),
			chat, "parameter_rules[2].type", "required when there is no use_template", 18},
		{"ErrRuleType", modelFiles().edit(t, chat, "    type: string\n", "    type: str\n"),
			chat, "parameter_rules[2].type", `unknown parameter type "str"`, 21},
		{"ErrRuleMinType", modelFiles().edit(t, chat, "    max: 8192\n", "    max: lots\n"),
			chat, "parameter_rules[1].max", "must be a number, not a text", 17},
		{"ErrRulesNotList", modelFiles().edit(t, chat, "parameter_rules:\n", "parameter_rules: {}\nx:\n"),
			chat, "parameter_rules", "must be a list, not a mapping", 11},
		{"ErrPricingDecimal", modelFiles().edit(t, chat, "input: '2.00'", "input: two"),
			chat, "pricing.input", `"two" is not a decimal number`, 26},
		{"ErrPricingNoUnit", modelFiles().edit(t, chat, "  unit: '0.000001'\n", ""),
			chat, "pricing.unit", "required", 25},
		{"ErrPricingNoCurrency", modelFiles().edit(t, chat, "  currency: USD\n", ""),
			chat, "pricing.currency", "required", 25},
		{"ErrModelSyntax", modelFiles().edit(t, chat, "  mode: chat\n", "  mode: chat: x\n"),
			chat, "", "bad yaml", 9},
		{"ErrModelNotMapping", modelFiles().with(chat, "- acme-chat\n"),
			chat, "", "must be a yaml mapping", 1},
		{"ErrModelLocaleNotText", modelFiles().edit(t, chat, "  en_US: Acme Chat\n", "  en_US: [Acme Chat]\n"),
			chat, "label.en_US", "must be a text, not a list", 3},
		{"ErrInlineModelType", modelFiles().edit(t, prov, modelProvider[strings.Index(modelProvider, "models:\n"):strings.Index(modelProvider, "extra:")],
			"models:\n  - model: inline\n    model_type: vision\n"),
			prov, "models[0].model_type", `unknown model type "vision"`, 56},
		{"ErrInlineModelNotMapping", modelFiles().edit(t, prov, modelProvider[strings.Index(modelProvider, "models:\n"):strings.Index(modelProvider, "extra:")],
			"models:\n  - inline\n"),
			prov, "models[0]", "must be a model (a mapping)", 55},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := MustReject(t, decodeErr(t, MustZip(t, c.files, "")), c.file, c.field, c.want)
			if e.Line != c.line {
				t.Errorf("line = %d, want %d (%v)", e.Line, c.line, e)
			}
		})
	}
}

func TestDecodeModelsWarnings(t *testing.T) {
	const prov, chat = "provider/acme.yaml", "models/llm/acme-chat.yaml"
	cases := []struct {
		name        string
		files       files
		file, field string
		want        string
		line        int
		count       int // of warnings (0: only this one, -1: none)
	}{
		{"WarnUnknownModelsKey", modelFiles().edit(t, prov, "  text_embedding:\n", "  text-embedding:\n"),
			prov, "models.text-embedding", `"text-embedding" is ignored`, 59, 0},
		{"WarnGlobMatchesNothing", modelFiles().edit(t, prov, "      - models/text_embedding/*.yaml\n", "      - models/text_embedding/*.yml\n"),
			prov, "models.text_embedding.predefined[0]", `the glob "models/text_embedding/*.yml" matches no file`, 61, 0},
		{"WarnPredefinedNotList", modelFiles().edit(t, prov, "    predefined:\n      - models/text_embedding/*.yaml\n", "    predefined: models/text_embedding/*.yaml\n"),
			prov, "models.text_embedding.predefined", "must be a list of globs", 60, 0},
		{"WarnTwoGlobs", modelFiles().edit(t, prov, "      - models/text_embedding/*.yaml\n", "      - models/text_embedding/*.yaml\n      - models/*/embed.yaml\n"),
			"models/text_embedding/embed.yaml", "", "2 globs under models match this file", 0, 2},
		{"WarnUnsupportedType", modelFiles().edit(t, prov, "  - text-embedding\n", ""),
			prov, "supported_model_types", `model "acme-embed" is a text-embedding model, a type the provider does not list`, 14, 0},
		{"WarnDuplicateModel", modelFiles().with("models/llm/acme-chat2.yaml", chatModel),
			prov, "models[1]", `the llm model "acme-chat" is declared twice`, 54, 0},
		{"WarnNoPredefinedModels", modelFiles().edit(t, prov, "  - customizable-model\n", "").
			edit(t, prov, modelProvider[strings.Index(modelProvider, "models:\n"):strings.Index(modelProvider, "extra:")], ""),
			prov, "configurate_methods", "predefined models only, but the package declares none", 17, 0},
		{"WarnCustomizableNoSchema", modelFiles().edit(t, prov, modelProvider[strings.Index(modelProvider, "model_credential_schema:"):strings.Index(modelProvider, "models:\n")], ""),
			prov, "configurate_methods", "customizable-model without a model_credential_schema", 17, 0},
		{"WarnDarkIcon", modelFiles().edit(t, prov, "icon_large:\n", "icon_small_dark:\n  en_US: dark.svg\nicon_large:\n"),
			prov, "icon_small_dark.en_US", `icon "dark.svg" is not in the package`, 7, 0},
		{"WarnProviderName", modelFiles().edit(t, prov, "provider: acme\n", "provider: acme.ai\n"),
			prov, "provider", `"acme.ai" is not only letters, digits`, 1, 0},
		{"WarnShowOnUnknownVariable", modelFiles().edit(t, prov, "        - variable: __model_type\n", "        - variable: model_type\n"),
			prov, "model_credential_schema.credential_form_schemas[0].show_on[0].variable", `"model_type" is not a field of this form`, 40, 0},
		{"WarnSelectDefault", modelFiles().edit(t, prov, "      default: chat\n", "      default: chatty\n"),
			prov, "model_credential_schema.credential_form_schemas[0].default", `default "chatty" is not one of the options`, 38, 0},
		{"WarnDuplicateVariable", modelFiles().edit(t, prov, "      required: true\nmodel_credential_schema:", "      required: true\n    - variable: api_key\n      label:\n        en_US: Key\n      type: text-input\nmodel_credential_schema:"),
			prov, "provider_credential_schema.credential_form_schemas[1].variable", `the field "api_key" is declared twice for the same show_on`, 27, 0},
		{"OKSameVariableOtherShowOn", modelFiles().edit(t, prov, "    - variable: context_size\n", "    - variable: mode\n"),
			"", "", "", 0, -1},
		{"WarnFeature", modelFiles().edit(t, chat, "  - vision\n", "  - images\n"),
			chat, "features[1]", `"images" is not a feature Dify's SDK knows`, 7, 0},
		{"WarnLLMMode", modelFiles().edit(t, chat, "  mode: chat\n", "  mode: chatty\n"),
			chat, "model_properties.mode", "an LLM's mode should be chat or completion", 9, 0},
		{"WarnRuleMinMax", modelFiles().edit(t, chat, "    max: 8192\n", "    max: 8192\n    min: 9000\n"),
			chat, "parameter_rules[1].min", "min 9000 is greater than max 8192", 18, 0},
		{"WarnRuleDefaultRange", modelFiles().edit(t, chat, "    default: 512\n", "    default: 10000\n"),
			chat, "parameter_rules[1].default", "default 10000 is outside min and max", 16, 0},
		{"WarnRuleDefaultOption", modelFiles().edit(t, chat, "    type: string\n", "    type: string\n    default: xml\n"),
			chat, "parameter_rules[2].default", `default "xml" is not one of the options`, 22, 0},
		{"WarnRuleTwice", modelFiles().edit(t, chat, "  - name: max_tokens\n", "  - name: temperature\n"),
			chat, "parameter_rules[1].name", `the parameter "temperature" is declared twice`, 14, 0},
		{"WarnLocale", modelFiles().edit(t, chat, "  en_US: Acme Chat\n", "  en_US: Acme Chat\n  ko_KR: Acme\n"),
			chat, "label.ko_KR", `"ko_KR" is not a language Dify reads`, 4, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := MustDecode(t, MustZip(t, c.files, ""))
			if c.count < 0 {
				if len(p.Warnings) != 0 {
					t.Errorf("warnings = %v, want none", p.Warnings)
				}
				return
			}
			if n := max(c.count, 1); len(p.Warnings) != n {
				t.Fatalf("warnings = %v, want %d", p.Warnings, n)
			}
			w := p.Warnings[0]
			if w.File != c.file || w.Field != c.field || w.Line != c.line || !strings.Contains(w.Msg, c.want) {
				t.Errorf("warning = %+v, want %s %s line %d saying %q", w, c.file, c.field, c.line, c.want)
			}
		})
	}
}
