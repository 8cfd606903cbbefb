package pkgfmt

import (
	"github.com/goccy/go-yaml/ast"

	"github.com/plugboard/plugboard"
)

// parseTriggerProvider decodes and validates a trigger provider yaml and
// the trigger files it names (under triggers, or events).
func parseTriggerProvider(file string, files fileSet, w *findings) (*plugboard.TriggerProvider, error) {
	data, _ := files.get(file)
	p := new(plugboard.TriggerProvider)
	d, err := parseDoc(file, data, p, w)
	if err != nil {
		return nil, err
	}
	if err := checkTriggerIdentity(d, &p.Identity, files); err != nil {
		return nil, err
	}
	if p.Credentials, err = parseFields(d, "credentials_schema"); err != nil {
		return nil, err
	}
	if p.OAuthSchema, err = parseOAuthSchema(d, "oauth_schema"); err != nil {
		return nil, err
	}
	if p.SubscriptionSchema, err = subscriptionSchema(d); err != nil {
		return nil, err
	}
	field := "triggers"
	if isNull(d.node(field)) {
		field = "events"
	}
	if p.TriggerFiles, err = declFiles(d, field, "trigger", files); err != nil {
		return nil, err
	}
	p.Triggers = make([]plugboard.Trigger, 0, len(p.TriggerFiles))
	for _, path := range p.TriggerFiles {
		data, _ := files.get(path)
		t, err := parseTrigger(path, data, w)
		if err != nil {
			return nil, err
		}
		p.Triggers = append(p.Triggers, *t)
	}
	return p, nil
}

// checkTriggerIdentity checks a trigger provider's identity; unlike a tool
// provider's, its icon is optional (its description is too: Dify fills it
// from the manifest).
func checkTriggerIdentity(d *doc, id *plugboard.ProviderIdentity, files fileSet) error {
	switch {
	case id.Author == "":
		return d.errorf("identity.author", "required")
	case id.Name == "":
		return d.errorf("identity.name", "required")
	case !providerNameRe.MatchString(id.Name):
		return d.errorf("identity.name", "%q must be letters, digits, _ and - only", id.Name)
	}
	if err := requireI18n(d, "identity.label", id.Label); err != nil {
		return err
	}
	if id.Icon == "" {
		return nil
	}
	return requireAsset(d, "identity.icon", id.Icon, files)
}

// subscriptionSchema reads subscription_schema: a mapping with
// parameters_schema and properties_schema, or a bare list of properties.
func subscriptionSchema(d *doc) (map[string]any, error) {
	out := map[string]any{"parameters_schema": []any{}, "properties_schema": []any{}}
	switch n := d.node("subscription_schema").(type) {
	case nil, *ast.NullNode:
		return out, nil
	case *ast.SequenceNode:
		var props []any
		if err := nodeValue(d, n, &props, "subscription_schema"); err != nil {
			return nil, err
		}
		out["properties_schema"] = props
	case *ast.MappingNode, *ast.MappingValueNode:
		if err := nodeValue(d, n, &out, "subscription_schema"); err != nil {
			return nil, err
		}
	default:
		return nil, d.errorf("subscription_schema", "must be a mapping (parameters_schema, properties_schema) or a list")
	}
	return out, nil
}

// parseTrigger decodes and validates one trigger (event) yaml.
func parseTrigger(file string, data []byte, w *findings) (*plugboard.Trigger, error) {
	t := new(plugboard.Trigger)
	d, err := parseDoc(file, data, t, w)
	if err != nil {
		return nil, err
	}
	if err := checkDeclIdentity(d, t.Identity); err != nil {
		return nil, err
	}
	if t.Description == nil {
		return nil, d.errorf("description", "required (human and llm, with en_US)")
	}
	if t.HumanDescription() == "" {
		return nil, d.errorf(descriptionField(t), "required")
	}
	t.Parameters = orEmptyInputs(t.Parameters)
	return t, checkInputs(d, "parameters", t.Parameters, triggerInputTypes)
}

// descriptionField names the English description a trigger lacks.
func descriptionField(t *plugboard.Trigger) string {
	if _, ok := t.Description["human"]; ok {
		return "description.human.en_US"
	}
	return "description.en_US"
}
