package plugboard

import (
	"encoding/json"
	"strings"
	"testing"
)

// A model provider written as JSON has Dify's shape: nulls for absent
// optional fields, [] for empty lists, the manifest's description, and no
// extra.
func TestModelProviderJSON(t *testing.T) {
	m := Manifest{
		Description: I18n{"en_US": "From the manifest"},
		Plugins:     Plugins{Models: []string{"provider/x.yaml"}},
		Model: &ModelProvider{
			Provider:            "x",
			Label:               I18n{"en_US": "X"},
			SupportedModelTypes: []string{ModelLLM},
			ConfigurateMethods:  []string{ConfigurateCustomizable},
			ModelCredentialSchema: &ModelCredentialSchema{
				Model:                 ModelNameField{Label: I18n{"en_US": "Model"}},
				CredentialFormSchemas: []CredentialFormSchema{{Variable: "k", Label: I18n{"en_US": "K"}, Type: FormSecretInput}},
			},
			Models: []ModelDeclaration{{Model: "m1", ModelType: ModelLLM,
				ParameterRules: []ParameterRule{{Name: "temperature", Label: I18n{"en_US": "temperature"}}}}},
			Extra: ModelProviderExtra{Python: ModelPythonExtra{ProviderSource: "provider/x.py"}},
		},
	}
	if m.Category() != CategoryModel {
		t.Fatalf("category %q", m.Category())
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{
		`"description":{"en_US":"From the manifest"}`,
		`"background":null`, `"icon_small":null`, `"help":null`, `"provider_credential_schema":null`,
		`"options":[],"placeholder":null,"max_length":0,"show_on":[]`,
		`"label":{"en_US":"m1"}`, `"fetch_from":"predefined-model"`,
		`"use_template":null`, `"type":null`, `"pricing":null`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("missing %s in\n%s", want, s)
		}
	}
	if strings.Contains(s, "provider_source") || strings.Contains(s, `"position"`) {
		t.Errorf("extra or position written: %s", s)
	}
	if m.Model.Description != nil || m.Model.ModelCredentialSchema.CredentialFormSchemas[0].Options != nil {
		t.Error("marshalling changed the original")
	}
	var back Manifest
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	b2, _ := json.Marshal(back)
	if string(b2) != s {
		t.Errorf("round trip differs:\n%s\n%s", s, b2)
	}
}
