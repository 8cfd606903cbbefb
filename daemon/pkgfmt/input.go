package pkgfmt

import (
	"fmt"
	"slices"
	"strings"

	"github.com/plugboard/plugboard"
)

// Input types each kind of declaration may use (Dify's lists).
var (
	strategyInputTypes = []string{
		plugboard.ParamString, plugboard.ParamNumber, plugboard.ParamBoolean, plugboard.ParamSelect, plugboard.ParamSecret, plugboard.ParamFile, plugboard.ParamFiles,
		plugboard.ParamAppSelector, plugboard.ParamModelSelector, plugboard.ParamToolsSelector, plugboard.ParamAny, plugboard.ParamObject, plugboard.ParamArray,
	}
	datasourceInputTypes = []string{plugboard.ParamString, plugboard.ParamNumber, plugboard.ParamBoolean, plugboard.ParamSelect, plugboard.ParamSecret, plugboard.ParamFile, plugboard.ParamFiles}
	triggerInputTypes    = []string{
		plugboard.ParamString, plugboard.ParamNumber, plugboard.ParamBoolean, plugboard.ParamSelect, plugboard.ParamFile, plugboard.ParamFiles,
		plugboard.ParamModelSelector, plugboard.ParamAppSelector, plugboard.ParamObject, plugboard.ParamArray, plugboard.ParamDynamicSelect,
	}
)

// checkInputs checks the inputs decoded from field (like "parameters"):
// what Dify's SDK refuses is refused; a type outside Dify's list, a name
// declared twice and a select's odd options are warnings.
func checkInputs(d *doc, field string, in []plugboard.Input, types []string) error {
	seen := map[string]bool{}
	for i := range in {
		f, p := fmt.Sprintf("%s[%d]", field, i), &in[i]
		switch {
		case p.Name == "":
			return d.errorf(f+".name", "required")
		case p.Type == "":
			return d.errorf(f+".type", "required")
		}
		if err := requireI18n(d, f+".label", p.Label); err != nil {
			return err
		}
		if !slices.Contains(types, p.Type) {
			d.warnf(f+".type", "%q is not one of Dify's types here (%s)", p.Type, strings.Join(types, ", "))
		}
		if seen[p.Name] {
			d.warnf(f+".name", "the parameter %q is declared twice", p.Name)
		}
		seen[p.Name] = true
		if p.Type == plugboard.ParamSelect {
			checkOptions(d, f, p.Options, p.Default)
		}
		if p.Options == nil {
			p.Options = []plugboard.Option{}
		}
	}
	return nil
}

// orEmptyInputs returns in, or an empty list for nil.
func orEmptyInputs(in []plugboard.Input) []plugboard.Input {
	if in == nil {
		return []plugboard.Input{}
	}
	return in
}
