package install

import (
	"context"
	"time"

	"github.com/plugboard/plugboard/app/github"
	"github.com/plugboard/plugboard/app/netguard"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/store/secret"
)

// GitHubClients makes GitHub clients with the settings admins saved (API
// URL, sealed token), dialling through the SSRF guard. Until settings are
// saved, DefaultURL (the server's --github-api-url) is used.
type GitHubClients struct {
	Store      *store.DB
	Keys       *secret.Keyring // nil: no saved settings (and no token)
	Guard      *netguard.Guard
	DefaultURL string
	Timeout    time.Duration
}

// Client returns a client with the saved settings.
func (g *GitHubClients) Client(ctx context.Context) (*github.Client, error) {
	o := github.Options{Guard: g.Guard, BaseURL: g.DefaultURL, Timeout: g.Timeout}
	if g.Keys != nil {
		set, err := g.Store.GitHubSettings(ctx, g.Keys)
		if err != nil {
			return nil, err
		}
		o.BaseURL, o.Token = g.BaseURL(set), set.Token()
	}
	return github.New(o)
}

// BaseURL is the saved API URL, or the server's default until one is saved.
func (g *GitHubClients) BaseURL(set *store.GitHubSettings) string {
	if set.UpdatedAt.IsZero() && g.DefaultURL != "" {
		return g.DefaultURL
	}
	return set.BaseURL
}
