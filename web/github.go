package web

import (
	"context"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/app/install"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/views"
	"github.com/plugboard/plugboard/web/github"
)

// githubPage shows the GitHub install page; with ?repo= it lists that
// repository's releases too (the htmx lookup pushes that URL).
func (s *Server) githubPage(c echo.Context) error {
	var p views.GitHubPage
	if in := c.QueryParam("repo"); in != "" {
		r := s.githubReleases(c, in, c.QueryParam("upgrade"))
		p.Releases = &r
	}
	return s.renderGitHubPage(c, http.StatusOK, p, nil)
}

// renderGitHubPage renders the page with the settings form f (nil: the
// saved settings) for admins.
func (s *Server) renderGitHubPage(c echo.Context, status int, p views.GitHubPage, f *views.Form) error {
	if CurrentUser(c).Role.AtLeast(store.RoleAdmin) && s.cfg.Keys != nil {
		if f == nil {
			set, err := s.store.GitHubSettings(ctx(c), s.cfg.Keys)
			if err != nil {
				return err
			}
			f = views.NewForm()
			f.Values["base_url"], f.Values["token"] = s.githubBaseURL(set), set.MaskedToken
			if set.TokenErr != nil {
				f.Errors["token"] = set.TokenErr.Error()
			}
		}
		p.Settings = f
		if s.cfg.GitHubAPIURL != "" {
			p.SettingsNote = "Until saved here, the server's --github-api-url (" + s.cfg.GitHubAPIURL + ") is used."
		}
	}
	return s.render(c, status, views.GitHubPageView(s.chrome(c, "Install from GitHub", views.NavPlugins), p))
}

// githubReleasesFragment answers the page's lookup: the releases list.
func (s *Server) githubReleasesFragment(c echo.Context) error {
	if !isHTMX(c) {
		return s.githubPage(c)
	}
	r := s.githubReleases(c, c.QueryParam("repo"), c.QueryParam("upgrade"))
	return s.render(c, http.StatusOK, views.GitHubReleasesList(fragmentChrome(c), r))
}

// githubReleases looks up a repository's releases; failures are worded in
// the result's Error.
func (s *Server) githubReleases(c echo.Context, input, upgrade string) views.GitHubReleases {
	r := views.GitHubReleases{Input: input, Upgrade: upgrade}
	repo, err := github.ParseRepo(input)
	if err != nil {
		r.Error = plugboard.ErrorMessage(err)
		return r
	}
	r.Repo = repo.String()
	if upgrade != "" {
		if in, err := s.findInstalled(c, upgrade); err == nil {
			r.Current = in.Version
		}
	}
	r.Releases, err = s.listReleases(c, repo)
	if err != nil {
		r.Error = s.githubProblem(err)
	}
	return r
}

// listReleases lists the releases, refusing a repository none of whose
// releases carries a package.
func (s *Server) listReleases(c echo.Context, repo github.Repo) ([]github.Release, error) {
	gh, err := s.githubClient(ctx(c))
	if err != nil {
		return nil, err
	}
	rels, err := gh.Releases(ctx(c), repo)
	if err != nil {
		return nil, err
	}
	for _, r := range rels {
		if len(r.Packages()) > 0 {
			return rels, nil
		}
	}
	return nil, plugboard.Errorf(plugboard.ENOTFOUND, "None of the %d releases of %s has a %s asset.", len(rels), repo, github.PackageExt)
}

// githubPreview downloads the chosen asset and shows its install preview,
// which records the source (repo, version, package) on the installation.
func (s *Server) githubPreview(c echo.Context) error {
	repo, err := github.ParseRepo(c.FormValue("repo"))
	if err != nil {
		return s.uploadFailed(c, "", err)
	}
	tag, name := c.FormValue("version"), c.FormValue("package")
	if tag == "" || name == "" {
		return s.uploadFailed(c, name, plugboard.Errorf(plugboard.EINVALID, "Pick a release and one of its %s assets.", github.PackageExt))
	}
	a := install.GitHubAsset{Repo: repo, Tag: tag, Name: name, Upgrade: c.FormValue("upgrade")}
	pkg, err := s.installs.FetchGitHub(ctx(c), CurrentUser(c), a)
	if err != nil {
		return s.uploadFailed(c, name, err)
	}
	p, err := s.installs.Preview(ctx(c), CurrentUser(c), *pkg)
	return s.showPreview(c, name, p, err)
}

// githubProblem words a failure for the page: ours as they are, others
// logged and summarised.
func (s *Server) githubProblem(err error) string {
	return s.installs.GitHubProblem(err)
}

// githubClient is a client with the saved settings, through the SSRF
// guard; app/install downloads release assets with it too.
func (s *Server) githubClient(cx context.Context) (*github.Client, error) {
	o := github.Options{Guard: s.outbound, BaseURL: s.cfg.GitHubAPIURL, Timeout: s.cfg.GitHubTimeout}
	if s.cfg.Keys != nil {
		set, err := s.store.GitHubSettings(cx, s.cfg.Keys)
		if err != nil {
			return nil, err
		}
		o.BaseURL, o.Token = s.githubBaseURL(set), set.Token()
	}
	return github.New(o)
}

// githubBaseURL is the saved API URL, or the server's default until one is
// saved.
func (s *Server) githubBaseURL(set *store.GitHubSettings) string {
	if set.UpdatedAt.IsZero() && s.cfg.GitHubAPIURL != "" {
		return s.cfg.GitHubAPIURL
	}
	return set.BaseURL
}

// saveGitHubSettings stores the API URL and token (sealed; the masked
// value keeps the stored token).
func (s *Server) saveGitHubSettings(c echo.Context) error {
	f := formValues(c, "base_url", "token")
	if _, err := github.New(github.Options{BaseURL: f.Values["base_url"], Guard: s.outbound}); err != nil && f.Values["base_url"] != "" {
		var ge *github.Error
		if errors.As(err, &ge) {
			err = &store.FieldError{Field: "base_url", Message: ge.Msg}
		}
		return s.githubSettingsFailed(c, f, err)
	}
	in := store.GitHubSettingsInput{BaseURL: f.Values["base_url"], Token: f.Values["token"]}
	if _, err := s.store.SaveGitHubSettings(ctx(c), s.cfg.Keys, CurrentUser(c).Username, in); err != nil {
		return s.githubSettingsFailed(c, f, err)
	}
	return s.flashRedirect(c, "Saved the GitHub settings.", "/github")
}

// githubSettingsFailed re-renders the page with the form's errors; a typed
// token is never sent back.
func (s *Server) githubSettingsFailed(c echo.Context, f *views.Form, err error) error {
	status := formError(f, err)
	set, serr := s.store.GitHubSettings(ctx(c), s.cfg.Keys)
	if serr != nil {
		return serr
	}
	if t := f.Values["token"]; t != "" && t != set.MaskedToken {
		f.Values["token"] = ""
		if f.Errors["token"] == "" {
			f.Errors["token"] = "Type the token again: a token you enter is never sent back to the browser."
		}
	}
	return s.renderGitHubPage(c, status, views.GitHubPage{}, f)
}

// githubUpdates lists the releases newer than the installed one of a
// plugin installed from GitHub (the plugin detail's "check for updates").
func (s *Server) githubUpdates(c echo.Context) error {
	in, err := s.findInstalled(c, c.Param("author")+"/"+c.Param("name"))
	if err != nil {
		return err
	}
	if in.Source != install.SourceGitHub {
		return plugboard.Errorf(plugboard.EINVALID, "%s was not installed from GitHub.", in.PluginID)
	}
	r := s.githubReleases(c, views.MetaString(in.Meta, "repo"), in.PluginID)
	if r.Error == "" {
		r.Releases = newerReleases(r.Releases, views.MetaString(in.Meta, "version"), in.Version)
	}
	return s.render(c, http.StatusOK, views.GitHubUpdates(fragmentChrome(c), *in, r))
}
