package models

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/store/secret"
)

// Names of the customizable-model form's own fields, beside the schema's
// variables (which FieldErrors keys by variable).
const (
	ModelField     = "__model"
	ModelTypeField = "__model_type"
)

// FieldErrors are the problems of submitted fields, by variable (or
// ModelField, ModelTypeField); an invalid error.
type FieldErrors map[string]string

// Error lists the problems.
func (fe FieldErrors) Error() string {
	keys := make([]string, 0, len(fe))
	for k := range fe {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+": "+fe[k])
	}
	return strings.Join(parts, "; ")
}

// Unwrap makes FieldErrors an invalid error for plugboard.ErrorCode.
func (fe FieldErrors) Unwrap() error { return plugboard.Errorf(plugboard.EINVALID, "%s", fe.Error()) }

// Visible reports whether a field of the form shows, given the submitted
// (or default) values and the model type: every show_on condition holds,
// the variable __model_type testing modelType. A hidden field is neither
// required nor sent.
func Visible(f plugboard.CredentialFormSchema, modelType string, values map[string]string) bool {
	for _, c := range f.ShowOn {
		v := values[c.Variable]
		if c.Variable == ModelTypeField {
			v = modelType
		}
		if v != c.Value {
			return false
		}
	}
	return true
}

// ParseFields reads submitted form values (raw, by variable) against a
// credential form: hidden fields are dropped, required ones checked,
// text trimmed and bounded by max_length, select and radio values checked
// against their options, switches read as "true" or "false" (strings, as
// Dify's forms send them). A secret-input sent back as the mask of the
// stored value (stored: the saved fields, nil when none) keeps it. It
// returns the plain values, the secrets and the problems.
func ParseFields(schema []plugboard.CredentialFormSchema, modelType string, raw map[string]string, stored map[string]any) (map[string]any, map[string]string, FieldErrors) {
	values, secrets, errs := map[string]any{}, map[string]string{}, FieldErrors{}
	shown := withDefaults(schema, raw)
	for _, f := range schema {
		if !Visible(f, modelType, shown) {
			continue
		}
		label := cmp.Or(f.Label.English(), f.Variable)
		v := raw[f.Variable]
		switch f.Type {
		case plugboard.FormSecretInput:
			old, _ := stored[f.Variable].(string)
			if old != "" && secret.IsMask(v, old) {
				v = old
			}
			if v == "" {
				if f.Required {
					errs[f.Variable] = label + " is required."
				}
				continue
			}
			secrets[f.Variable] = v
			continue
		case plugboard.FormSwitch:
			values[f.Variable] = fmt.Sprint(v == "true" || v == "on")
			continue
		}
		v = strings.TrimSpace(v)
		switch {
		case v == "":
			if f.Required {
				errs[f.Variable] = label + " is required."
			}
			continue
		case f.MaxLength > 0 && len([]rune(v)) > f.MaxLength:
			errs[f.Variable] = fmt.Sprintf("%s must be at most %d characters.", label, f.MaxLength)
			continue
		case (f.Type == plugboard.FormSelect || f.Type == plugboard.FormRadio) &&
			!slices.ContainsFunc(f.Options, func(o plugboard.FormOption) bool { return o.Value == v }):
			errs[f.Variable] = fmt.Sprintf("%q is not one of the choices for %s.", v, label)
			continue
		}
		values[f.Variable] = v
	}
	return values, secrets, errs
}

// withDefaults is raw with each absent field's default, for show_on
// conditions on fields the form did not send.
func withDefaults(schema []plugboard.CredentialFormSchema, raw map[string]string) map[string]string {
	out := make(map[string]string, len(schema))
	for _, f := range schema {
		if v, ok := raw[f.Variable]; ok {
			out[f.Variable] = v
		} else if f.Default != nil {
			out[f.Variable] = *f.Default
		}
	}
	return out
}

// Defaults returns a form's default values by variable (secrets have
// none), to prefill an empty form.
func Defaults(schema []plugboard.CredentialFormSchema) map[string]string {
	out := map[string]string{}
	for _, f := range schema {
		if f.Default != nil && f.Type != plugboard.FormSecretInput {
			out[f.Variable] = *f.Default
		}
	}
	return out
}
