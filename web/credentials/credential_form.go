package credentials

import (
	"fmt"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/store/secret"
	"github.com/plugboard/plugboard/views"
)

// credentialSubmission is a parsed credential form: what to re-render, and
// what to validate and store.
type credentialSubmission struct {
	Form  *views.Form
	Input store.CredentialInput
}

// All returns every field, secrets in plain text, as the plugin receives
// them. Keep it in memory only.
func (cs credentialSubmission) All() map[string]any {
	all := make(map[string]any, len(cs.Input.Values)+len(cs.Input.Secrets))
	for k, v := range cs.Input.Values {
		all[k] = v
	}
	for k, v := range cs.Input.Secrets {
		all[k] = v
	}
	return all
}

// parseCredentialForm reads a submitted credential form against the
// provider's schema. stored holds the credential's current fields when
// editing (nil when adding): a secret sent back as its mask keeps the stored
// value. Secrets never go back into the re-rendered form; when editing, the
// mask does. Field errors are set on the form; ok is false when any.
func parseCredentialForm(c echo.Context, schema []plugboard.CredentialField, stored map[string]any) (credentialSubmission, bool) {
	f := views.NewForm()
	in := store.CredentialInput{Values: map[string]any{}, Secrets: map[string]string{}}
	in.Name = strings.TrimSpace(c.FormValue("name"))
	f.Values["name"] = in.Name
	for _, field := range schema {
		key := views.CredentialInputName(field.Name)
		raw := c.FormValue(key)
		if msg := parseField(field, raw, stored, &in, f); msg != "" {
			f.Errors[key] = msg
		}
	}
	return credentialSubmission{Form: f, Input: in}, len(f.Errors) == 0
}

// parseField reads one field into in and its re-render value into f, and
// returns a validation message ("" when fine).
func parseField(field plugboard.CredentialField, raw string, stored map[string]any, in *store.CredentialInput, f *views.Form) string {
	key, label := views.CredentialInputName(field.Name), views.FieldLabel(field)
	switch field.Type {
	case plugboard.CredentialSecret:
		old, _ := stored[field.Name].(string)
		if stored != nil && secret.IsMask(raw, old) {
			raw = old
		}
		if old != "" && raw == old {
			f.Values[key] = secret.Mask(old)
		}
		if raw == "" && field.Required {
			return label + " is required."
		}
		if raw != "" {
			in.Secrets[field.Name] = raw
		}
		return ""
	case plugboard.CredentialBoolean:
		on := raw == "true" || raw == "on"
		in.Values[field.Name] = on
		f.Values[key] = fmt.Sprint(on)
		return ""
	}
	raw = strings.TrimSpace(raw)
	f.Values[key] = raw
	if raw == "" {
		if field.Required {
			return label + " is required."
		}
		return ""
	}
	if field.Type == plugboard.CredentialSelect && len(field.Options) > 0 && !slices.ContainsFunc(field.Options, func(o plugboard.Option) bool { return o.Value == raw }) {
		return fmt.Sprintf("%q is not one of the choices for %s.", raw, label)
	}
	in.Values[field.Name] = raw
	return ""
}

// retypeSecret is shown on a secret field the user typed into when the
// form comes back with an error: what was typed is never sent back.
const retypeSecret = "Type it again: a secret you enter is never sent back to the browser."

// askRetype marks every secret the user typed (not the stored one's mask,
// which the form keeps) as to be typed again, for a form re-rendered with
// an error. Non-secret fields keep what was typed.
func askRetype(sub credentialSubmission) {
	for field := range sub.Input.Secrets {
		key := views.CredentialInputName(field)
		if sub.Form.Values[key] == "" && sub.Form.Errors[key] == "" {
			sub.Form.Errors[key] = retypeSecret
		}
	}
}

// defaultCredentialForm is the add form prefilled with the schema's defaults.
func defaultCredentialForm(schema []plugboard.CredentialField) *views.Form {
	f := views.NewForm()
	for _, field := range schema {
		if field.Default != nil && field.Type != plugboard.CredentialSecret {
			f.Values[views.CredentialInputName(field.Name)] = fmt.Sprint(field.Default)
		}
	}
	return f
}

// editCredentialForm is the edit form filled from a stored credential:
// secrets masked.
func editCredentialForm(cred *store.Credential) *views.Form {
	f := views.NewForm()
	f.Values["name"] = cred.Name
	for k, v := range cred.Values {
		f.Values[views.CredentialInputName(k)] = fmt.Sprint(v)
	}
	for k, v := range cred.Masked {
		f.Values[views.CredentialInputName(k)] = v
	}
	return f
}

// redact replaces every secret in msg with its mask, in case a plugin's
// message quotes the key it rejected.
func redact(msg string, secrets map[string]string) string {
	for _, s := range secrets {
		if len(s) >= 4 {
			msg = strings.ReplaceAll(msg, s, secret.Mask(s))
		}
	}
	return msg
}
