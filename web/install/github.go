package install

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/app/github"
	appinstall "github.com/plugboard/plugboard/app/install"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/views"
	"github.com/plugboard/plugboard/web/page"
)

// githubPage shows the GitHub install page; with ?repo= it lists that
// repository's releases too (the htmx lookup pushes that URL).
func (h *Handlers) githubPage(c echo.Context) error {
	var p views.GitHubPage
	if in := c.QueryParam("repo"); in != "" {
		r := h.githubReleases(c, in, c.QueryParam("upgrade"))
		p.Releases = &r
	}
	return h.renderGitHubPage(c, http.StatusOK, p, nil)
}

// renderGitHubPage renders the page with the settings form f (nil: the
// saved settings) for admins.
func (h *Handlers) renderGitHubPage(c echo.Context, status int, p views.GitHubPage, f *views.Form) error {
	if page.CurrentUser(c).Role.AtLeast(store.RoleAdmin) && h.keys != nil {
		if f == nil {
			set, err := h.store.GitHubSettings(page.Ctx(c), h.keys)
			if err != nil {
				return err
			}
			f = views.NewForm()
			f.Values["base_url"], f.Values["token"] = h.github.BaseURL(set), set.MaskedToken
			if set.TokenErr != nil {
				f.Errors["token"] = set.TokenErr.Error()
			}
		}
		p.Settings = f
		if h.github.DefaultURL != "" {
			p.SettingsNote = "Until saved here, the server's --github-api-url (" + h.github.DefaultURL + ") is used."
		}
	}
	return page.Render(c, status, views.GitHubPageView(h.Chrome(c, "Install from GitHub", views.NavPlugins), p))
}

// githubReleasesFragment answers the page's lookup: the releases list.
func (h *Handlers) githubReleasesFragment(c echo.Context) error {
	if !page.IsHTMX(c) {
		return h.githubPage(c)
	}
	r := h.githubReleases(c, c.QueryParam("repo"), c.QueryParam("upgrade"))
	return page.Render(c, http.StatusOK, views.GitHubReleasesList(fragmentChrome(c), r))
}

// githubReleases looks up a repository's releases; failures are worded in
// the result's Error.
func (h *Handlers) githubReleases(c echo.Context, input, upgrade string) views.GitHubReleases {
	r := views.GitHubReleases{Input: input, Upgrade: upgrade}
	repo, err := github.ParseRepo(input)
	if err != nil {
		r.Error = plugboard.ErrorMessage(err)
		return r
	}
	r.Repo = repo.String()
	if upgrade != "" {
		if in, err := page.FindInstalled(c, h.daemon, upgrade); err == nil {
			r.Current = in.Version
		}
	}
	r.Releases, err = h.listReleases(c, repo)
	if err != nil {
		r.Error = h.githubProblem(err)
	}
	return r
}

// listReleases lists the releases, refusing a repository none of whose
// releases carries a package.
func (h *Handlers) listReleases(c echo.Context, repo github.Repo) ([]github.Release, error) {
	gh, err := h.github.Client(page.Ctx(c))
	if err != nil {
		return nil, err
	}
	rels, err := gh.Releases(page.Ctx(c), repo)
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
func (h *Handlers) githubPreview(c echo.Context) error {
	repo, err := github.ParseRepo(c.FormValue("repo"))
	if err != nil {
		return h.uploadFailed(c, "", err)
	}
	tag, name := c.FormValue("version"), c.FormValue("package")
	if tag == "" || name == "" {
		return h.uploadFailed(c, name, plugboard.Errorf(plugboard.EINVALID, "Pick a release and one of its %s assets.", github.PackageExt))
	}
	a := appinstall.GitHubAsset{Repo: repo, Tag: tag, Name: name, Upgrade: c.FormValue("upgrade")}
	pkg, err := h.installs.FetchGitHub(page.Ctx(c), page.CurrentUser(c), a)
	if err != nil {
		return h.uploadFailed(c, name, err)
	}
	p, err := h.installs.Preview(page.Ctx(c), page.CurrentUser(c), *pkg)
	return h.showPreview(c, name, p, err)
}

// githubProblem words a failure for the page: ours as they are, others
// logged and summarised.
func (h *Handlers) githubProblem(err error) string {
	return h.installs.GitHubProblem(err)
}

// saveGitHubSettings stores the API URL and token (sealed; the masked
// value keeps the stored token).
func (h *Handlers) saveGitHubSettings(c echo.Context) error {
	f := page.FormValues(c, "base_url", "token")
	if _, err := github.New(github.Options{BaseURL: f.Values["base_url"], Guard: h.github.Guard}); err != nil && f.Values["base_url"] != "" {
		var ge *github.Error
		if errors.As(err, &ge) {
			err = &store.FieldError{Field: "base_url", Message: ge.Msg}
		}
		return h.githubSettingsFailed(c, f, err)
	}
	in := store.GitHubSettingsInput{BaseURL: f.Values["base_url"], Token: f.Values["token"]}
	if _, err := h.store.SaveGitHubSettings(page.Ctx(c), h.keys, page.CurrentUser(c).Username, in); err != nil {
		return h.githubSettingsFailed(c, f, err)
	}
	return h.FlashRedirect(c, "Saved the GitHub settings.", "/github")
}

// githubSettingsFailed re-renders the page with the form's errors; a typed
// token is never sent back.
func (h *Handlers) githubSettingsFailed(c echo.Context, f *views.Form, err error) error {
	status := page.FormError(f, err)
	set, serr := h.store.GitHubSettings(page.Ctx(c), h.keys)
	if serr != nil {
		return serr
	}
	if t := f.Values["token"]; t != "" && t != set.MaskedToken {
		f.Values["token"] = ""
		if f.Errors["token"] == "" {
			f.Errors["token"] = "Type the token again: a token you enter is never sent back to the browser."
		}
	}
	return h.renderGitHubPage(c, status, views.GitHubPage{}, f)
}

// githubUpdates lists the releases newer than the installed one of a
// plugin installed from GitHub (the plugin detail's "check for updates").
func (h *Handlers) githubUpdates(c echo.Context) error {
	in, err := page.FindInstalled(c, h.daemon, c.Param("author")+"/"+c.Param("name"))
	if err != nil {
		return err
	}
	if in.Source != appinstall.SourceGitHub {
		return plugboard.Errorf(plugboard.EINVALID, "%s was not installed from GitHub.", in.PluginID)
	}
	r := h.githubReleases(c, views.MetaString(in.Meta, "repo"), in.PluginID)
	if r.Error == "" {
		r.Releases = newerReleases(r.Releases, views.MetaString(in.Meta, "version"), in.Version)
	}
	return page.Render(c, http.StatusOK, views.GitHubUpdates(fragmentChrome(c), *in, r))
}
