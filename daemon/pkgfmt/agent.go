package pkgfmt

import (
	"fmt"

	"github.com/plugboard/plugboard"
)

// parseAgentStrategyProvider decodes and validates an agent strategy
// provider yaml and the strategy files it names.
func parseAgentStrategyProvider(file string, files fileSet, w *findings) (*plugboard.AgentStrategyProvider, error) {
	data, _ := files.get(file)
	p := new(plugboard.AgentStrategyProvider)
	d, err := parseDoc(file, data, p, w)
	if err != nil {
		return nil, err
	}
	if err := checkProviderIdentity(d, &p.Identity, files); err != nil {
		return nil, err
	}
	if p.StrategyFiles, err = declFiles(d, "strategies", "strategy", files); err != nil {
		return nil, err
	}
	if len(p.StrategyFiles) == 0 {
		return nil, d.errorf("strategies", "an agent strategy provider needs a list of strategy yaml files")
	}
	names := map[string]bool{}
	p.Strategies = make([]plugboard.AgentStrategy, 0, len(p.StrategyFiles))
	for i, path := range p.StrategyFiles {
		data, _ := files.get(path)
		s, err := parseAgentStrategy(path, data, w)
		if err != nil {
			return nil, err
		}
		if names[s.Identity.Name] {
			return nil, d.errorf(fmt.Sprintf("strategies[%d]", i), "duplicate strategy name %q", s.Identity.Name)
		}
		names[s.Identity.Name] = true
		p.Strategies = append(p.Strategies, *s)
	}
	return p, nil
}

// parseAgentStrategy decodes and validates one strategy yaml.
func parseAgentStrategy(file string, data []byte, w *findings) (*plugboard.AgentStrategy, error) {
	s := new(plugboard.AgentStrategy)
	d, err := parseDoc(file, data, s, w)
	if err != nil {
		return nil, err
	}
	if err := checkDeclIdentity(d, s.Identity); err != nil {
		return nil, err
	}
	if err := requireI18n(d, "description", s.Description); err != nil {
		return nil, err
	}
	s.Parameters = orEmptyInputs(s.Parameters)
	if s.Features == nil {
		s.Features = []string{}
	}
	return s, checkInputs(d, "parameters", s.Parameters, strategyInputTypes)
}

// checkDeclIdentity checks the identity of a strategy, datasource or
// trigger: name, author and label (Dify only checks a name's characters
// when it validates a remote plugin: here that is a warning).
func checkDeclIdentity(d *doc, id plugboard.ToolIdentity) error {
	switch {
	case id.Name == "":
		return d.errorf("identity.name", "required")
	case id.Author == "":
		return d.errorf("identity.author", "required")
	}
	if !providerNameRe.MatchString(id.Name) {
		d.warnf("identity.name", "%q should be letters, digits, _ and - only", id.Name)
	}
	return requireI18n(d, "identity.label", id.Label)
}
