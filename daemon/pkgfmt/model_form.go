package pkgfmt

import (
	"fmt"
	"slices"
	"strings"

	"github.com/plugboard/plugboard"
)

// formTypes are the field types a model credential form may use.
var formTypes = []string{plugboard.FormTextInput, plugboard.FormSecretInput, plugboard.FormSelect, plugboard.FormRadio, plugboard.FormSwitch}

// modelTypeVariable is the pseudo-field a show_on may test: the type of the
// model the form is for.
const modelTypeVariable = "__model_type"

// checkModelForms checks the provider's and the customizable models'
// credential forms, and the model-name field's label.
func checkModelForms(d *doc, p *plugboard.ModelProvider, _ fileSet) error {
	if s := p.ProviderCredentialSchema; s != nil {
		if err := checkForm(d, "provider_credential_schema.credential_form_schemas", s.CredentialFormSchemas); err != nil {
			return err
		}
	}
	if s := p.ModelCredentialSchema; s != nil {
		if err := requireI18n(d, "model_credential_schema.model.label", s.Model.Label); err != nil {
			return err
		}
		return checkForm(d, "model_credential_schema.credential_form_schemas", s.CredentialFormSchemas)
	}
	return nil
}

// checkForm checks each field of a credential form at field.
func checkForm(d *doc, field string, form []plugboard.CredentialFormSchema) error {
	vars := map[string]bool{modelTypeVariable: true}
	for _, f := range form {
		vars[f.Variable] = true
	}
	seen := map[string]bool{}
	for i := range form {
		ff := fmt.Sprintf("%s[%d]", field, i)
		if err := checkFormField(d, ff, &form[i], vars); err != nil {
			return err
		}
		// A variable may be declared once per condition (context_size for
		// llm, again for text-embedding), but not twice for the same one.
		key := fmt.Sprint(form[i].Variable, form[i].ShowOn)
		if seen[key] {
			d.warnf(ff+".variable", "the field %q is declared twice for the same show_on; the second is shadowed", form[i].Variable)
		}
		seen[key] = true
	}
	return nil
}

// checkFormField checks one credential field at field; vars are the
// variables its show_on may test.
func checkFormField(d *doc, field string, f *plugboard.CredentialFormSchema, vars map[string]bool) error {
	switch {
	case f.Variable == "":
		return d.errorf(field+".variable", "required")
	case f.Type == "":
		return d.errorf(field+".type", "required (one of %s)", strings.Join(formTypes, ", "))
	case !slices.Contains(formTypes, f.Type):
		return d.errorf(field+".type", "unknown field type %q (want one of %s)", f.Type, strings.Join(formTypes, ", "))
	}
	if err := requireI18n(d, field+".label", f.Label); err != nil {
		return err
	}
	// A default keeps its text as written (1.0 stays "1.0"), as yaml.v3 keeps it.
	if text, ok := d.scalar(field + ".default"); ok && f.Default != nil {
		f.Default = &text
	}
	if err := checkShowOn(d, field+".show_on", f.ShowOn, vars); err != nil {
		return err
	}
	return checkFormOptions(d, field, f, vars)
}

// checkFormOptions checks the options of a credential field: each needs a
// value and a label; a select or radio without options, or whose default
// is not one of them, is a warning.
func checkFormOptions(d *doc, field string, f *plugboard.CredentialFormSchema, vars map[string]bool) error {
	values := make([]string, len(f.Options))
	for i, o := range f.Options {
		of := fmt.Sprintf("%s.options[%d]", field, i)
		if o.Value == "" {
			return d.errorf(of+".value", "required")
		}
		if err := requireI18n(d, of+".label", o.Label); err != nil {
			return err
		}
		if err := checkShowOn(d, of+".show_on", o.ShowOn, vars); err != nil {
			return err
		}
		values[i] = o.Value
	}
	if f.Type != plugboard.FormSelect && f.Type != plugboard.FormRadio {
		return nil
	}
	if len(f.Options) == 0 {
		d.warnf(field+".options", "a %s without options: nothing can be chosen", f.Type)
	} else if f.Default != nil && *f.Default != "" && !slices.Contains(values, *f.Default) {
		d.warnf(field+".default", "default %q is not one of the options %q", *f.Default, values)
	}
	return nil
}

// checkShowOn checks the conditions of a show_on: each names a variable
// and a value; a variable that is no field of the form is a warning (the
// field would never show).
func checkShowOn(d *doc, field string, conds []plugboard.ShowOn, vars map[string]bool) error {
	for i, c := range conds {
		cf := fmt.Sprintf("%s[%d]", field, i)
		switch {
		case c.Variable == "":
			return d.errorf(cf+".variable", "required")
		case c.Value == "":
			return d.errorf(cf+".value", "required")
		case !vars[c.Variable]:
			d.warnf(cf+".variable", "%q is not a field of this form (nor %s): the field never shows", c.Variable, modelTypeVariable)
		}
	}
	return nil
}
