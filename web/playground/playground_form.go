package playground

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/app/invoke"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/views"
)

// defaultToolForm fills the form with the parameters' defaults and the
// provider's default credential.
func defaultToolForm(t *views.PlaygroundTool) *views.Form {
	f := views.NewForm()
	for _, p := range t.Params {
		if p.Default != nil && p.Type != plugboard.ParamSecret && !invoke.IsFileParam(p) {
			f.Values[views.ParamField(p.Name)] = formValue(p, p.Default)
		}
	}
	for _, c := range t.Credentials {
		if c.IsDefault {
			f.Values["credential"] = strconv.FormatInt(c.ID, 10)
		}
	}
	return f
}

// formValue is how a parameter value appears in its form field.
func formValue(p plugboard.Parameter, v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case int:
		return strconv.Itoa(x)
	case nil:
		return ""
	}
	b, _ := json.Marshal(v)
	if p.Type == plugboard.ParamArray || p.Type == plugboard.ParamObject {
		b, _ = json.MarshalIndent(v, "", "  ")
	}
	return string(b)
}

// fillFromRun puts a previous run's parameters and credential into the
// form; redacted secrets stay empty so they must be typed again, and files
// must be chosen again.
func fillFromRun(f *views.Form, t *views.PlaygroundTool, r *store.Run) {
	for _, p := range t.Params {
		v, ok := r.Params[p.Name]
		if !ok || p.Type == plugboard.ParamSecret || invoke.IsFileParam(p) {
			continue // secrets and files must be given again
		}
		f.Values[views.ParamField(p.Name)] = formValue(p, v)
	}
	if r.CredentialID != 0 {
		f.Values["credential"] = strconv.FormatInt(r.CredentialID, 10)
	} else {
		f.Values["credential"] = ""
	}
}

// toolSubmission is a parsed tool form.
type toolSubmission struct {
	Form *views.Form
	// Params are the values to invoke the tool with (secrets in plain
	// text: the invocation service redacts what the run records).
	Params       map[string]any
	CredentialID int64 // 0: none
	// Files are the uploaded files of file parameters, stored with the run.
	Files []*store.RunFile
}

// parseToolForm reads and checks every parameter; ok is false when a field
// has an error (the form then carries a message per field).
func parseToolForm(c echo.Context, t *views.PlaygroundTool) (*toolSubmission, bool) {
	sub := &toolSubmission{Form: views.NewForm(), Params: map[string]any{}}
	for _, p := range t.Params {
		field := views.ParamField(p.Name)
		if invoke.IsFileParam(p) {
			files, msg := parseFileParam(c, p)
			if msg != "" {
				sub.Form.Errors[field] = msg
			}
			sub.Files = append(sub.Files, files...)
			continue
		}
		raw := c.FormValue(field)
		if p.Type != plugboard.ParamSecret {
			sub.Form.Values[field] = raw
		}
		v, msg := parseParam(p, raw)
		if msg != "" {
			sub.Form.Errors[field] = msg
			continue
		}
		if v != nil {
			sub.Params[p.Name] = v
		}
	}
	sub.Form.Values["credential"] = c.FormValue("credential")
	if msg := sub.pickCredential(t, c.FormValue("credential")); msg != "" {
		sub.Form.Errors["credential"] = msg
	}
	return sub, len(sub.Form.Errors) == 0
}

// pickCredential checks that the chosen credential is one of the provider's.
func (sub *toolSubmission) pickCredential(t *views.PlaygroundTool, v string) string {
	if v == "" {
		return ""
	}
	id, err := strconv.ParseInt(v, 10, 64)
	for _, c := range t.Credentials {
		if err == nil && c.ID == id {
			sub.CredentialID = id
			return ""
		}
	}
	return fmt.Sprintf("%s has no credential %q.", t.Provider, v)
}

// parseParam converts one field to the value the plugin expects and
// checks it as the invocation service will (invoke.CheckParam), so that
// the form shows every field's problem at once. A nil value with no
// message means "not given".
func parseParam(p plugboard.Parameter, raw string) (any, string) {
	v, msg := convertParam(p, raw)
	if msg == "" {
		msg = invoke.CheckParam(p, v)
	}
	if msg != "" {
		return nil, msg
	}
	return v, ""
}

// convertParam reads a field's text as the parameter's JSON type; blank
// is nil (not given).
func convertParam(p plugboard.Parameter, raw string) (any, string) {
	if p.Type == plugboard.ParamBoolean {
		return raw == "true" || raw == "on", ""
	}
	if strings.TrimSpace(raw) == "" {
		return nil, ""
	}
	switch p.Type {
	case plugboard.ParamNumber:
		n, err := strconv.ParseFloat(strings.TrimSpace(raw), 64)
		if err != nil {
			return nil, fmt.Sprintf("%s must be a number, not %q.", p.Name, raw)
		}
		return n, ""
	case plugboard.ParamArray, plugboard.ParamObject:
		var v any
		if err := json.Unmarshal([]byte(raw), &v); err != nil {
			return nil, fmt.Sprintf("%s is not valid JSON: %v.", p.Name, err)
		}
		return v, ""
	}
	return raw, ""
}
