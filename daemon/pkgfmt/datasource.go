package pkgfmt

import (
	"fmt"
	"slices"
	"strings"

	"github.com/plugboard/plugboard"
)

// datasourceTypes are the kinds of datasource Dify knows.
var datasourceTypes = []string{"website_crawl", "online_document", "online_drive", "online_driver"}

// parseDatasourceProvider decodes and validates a datasource provider yaml
// and the datasource files it names.
func parseDatasourceProvider(file string, files fileSet, w *findings) (*plugboard.DatasourceProvider, error) {
	data, _ := files.get(file)
	p := new(plugboard.DatasourceProvider)
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
	p.Datasources = make([]plugboard.Datasource, 0, len(p.DatasourceFiles))
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
func parseDatasource(file string, data []byte, w *findings) (*plugboard.Datasource, error) {
	ds := new(plugboard.Datasource)
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
