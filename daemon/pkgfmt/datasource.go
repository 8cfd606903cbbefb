package pkgfmt

import (
	"fmt"
	"slices"
	"strings"
)

// DatasourceProvider is a datasource provider yaml (Dify's
// DatasourceProviderDeclaration) with its datasources.
type DatasourceProvider struct {
	Identity     ProviderIdentity  `yaml:"identity" json:"identity"`
	Credentials  []CredentialField `yaml:"-" json:"credentials_schema"`
	OAuthSchema  *OAuthSchema      `yaml:"-" json:"oauth_schema"`
	ProviderType string            `yaml:"provider_type" json:"provider_type"`
	Datasources  []Datasource      `yaml:"-" json:"datasources"`
	// DatasourceFiles are the datasource yaml paths the provider names.
	DatasourceFiles []string `yaml:"-" json:"-"`
}

// Datasource is one datasource yaml (Dify's DatasourceDeclaration).
type Datasource struct {
	Identity     ToolIdentity   `yaml:"identity" json:"identity"`
	Description  I18n           `yaml:"description" json:"description"`
	Parameters   []Input        `yaml:"parameters" json:"parameters"`
	OutputSchema map[string]any `yaml:"output_schema" json:"output_schema,omitempty"`
}

// datasourceTypes are the kinds of datasource Dify knows.
var datasourceTypes = []string{"website_crawl", "online_document", "online_drive", "online_driver"}

// parseDatasourceProvider decodes and validates a datasource provider yaml
// and the datasource files it names.
func parseDatasourceProvider(file string, files fileSet, w *findings) (*DatasourceProvider, error) {
	data, _ := files.get(file)
	p := new(DatasourceProvider)
	d, err := parseDoc(file, data, p, w)
	if err != nil {
		return nil, err
	}
	if err := checkDescribedIdentity(d, &p.Identity, files); err != nil {
		return nil, err
	}
	if p.Credentials, err = parseCredentials(d); err != nil {
		return nil, err
	}
	if p.OAuthSchema, err = parseOAuthSchema(d, "oauth_schema"); err != nil {
		return nil, err
	}
	switch {
	case p.ProviderType == "":
		return nil, d.errorf("provider_type", "required (%s)", strings.Join(datasourceTypes, ", "))
	case !slices.Contains(datasourceTypes, p.ProviderType):
		d.warnf("provider_type", "%q is not a kind of datasource Dify knows (%s)", p.ProviderType, strings.Join(datasourceTypes, ", "))
	}
	if p.DatasourceFiles, err = declFiles(d, "datasources", "datasource", files); err != nil {
		return nil, err
	}
	if len(p.DatasourceFiles) == 0 {
		return nil, d.errorf("datasources", "a datasource provider needs a list of datasource yaml files")
	}
	p.Datasources = make([]Datasource, 0, len(p.DatasourceFiles))
	for i, path := range p.DatasourceFiles {
		data, _ := files.get(path)
		ds, err := parseDatasource(path, data, w)
		if err != nil {
			return nil, err
		}
		for _, o := range p.Datasources {
			if o.Identity.Name == ds.Identity.Name {
				return nil, d.errorf(fmt.Sprintf("datasources[%d]", i), "duplicate datasource name %q", ds.Identity.Name)
			}
		}
		p.Datasources = append(p.Datasources, *ds)
	}
	return p, nil
}

// parseDatasource decodes and validates one datasource yaml.
func parseDatasource(file string, data []byte, w *findings) (*Datasource, error) {
	ds := new(Datasource)
	d, err := parseDoc(file, data, ds, w)
	if err != nil {
		return nil, err
	}
	if err := checkDeclIdentity(d, ds.Identity); err != nil {
		return nil, err
	}
	if err := requireI18n(d, "description", ds.Description); err != nil {
		return nil, err
	}
	ds.Parameters = orEmptyInputs(ds.Parameters)
	return ds, checkInputs(d, "parameters", ds.Parameters, datasourceInputTypes)
}
