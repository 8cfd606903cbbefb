package install

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard"
	appinstall "github.com/plugboard/plugboard/app/install"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/views"
	"github.com/plugboard/plugboard/web/page"
)

// uploadField is the file input of the upload form.
const uploadField = "package"

// installService is what the install handlers need of app/install:
// fetching from each source, the preview every source ends in, install and
// uninstall, the examples and the marketplace's latest versions.
type installService interface {
	FetchMarketplace(ctx context.Context, u *store.User, pluginID, version string) (*appinstall.Package, error)
	FetchGitHub(ctx context.Context, u *store.User, a appinstall.GitHubAsset) (*appinstall.Package, error)
	Preview(ctx context.Context, u *store.User, p appinstall.Package) (*appinstall.Preview, error)
	PreviewExample(ctx context.Context, u *store.User, file string) (*appinstall.Preview, error)
	Install(ctx context.Context, u *store.User, ch appinstall.Choice) (*appinstall.Started, error)
	Uninstall(ctx context.Context, u *store.User, pluginID string, deleteCredentials bool) (*appinstall.Uninstalled, error)
	ExampleFiles() []string
	FindExample(file string) (*appinstall.Example, error)
	LatestVersions(ctx context.Context, list []apispec.Installation) map[string]string
	GitHubProblem(err error) string
	// Close stops following install tasks and waits.
	Close()
}

// maxSourceMeta bounds the source details a form may carry back.
const maxSourceMeta = 4 << 10

// uploadPackage stores an uploaded package in the daemon (not installing
// it) and answers with its preview. A refused file answers 422 with the
// reason: too large, not a package, or the daemon's.
func (h *Handlers) uploadPackage(c echo.Context) error {
	name, data, err := readUpload(c)
	if err != nil {
		return h.uploadFailed(c, name, err)
	}
	p, err := h.installs.Preview(page.Ctx(c), page.CurrentUser(c), appinstall.Package{Name: name, Data: data, Source: appinstall.Source{Kind: appinstall.SourcePackage}})
	return h.showPreview(c, name, p, err)
}

// showPreview answers with the preview of a stored package (or why there
// is none), whose install button records the package's source. Every
// source (upload, marketplace, GitHub) ends here.
func (h *Handlers) showPreview(c echo.Context, name string, p *appinstall.Preview, err error) error {
	if err != nil {
		return h.uploadFailed(c, name, err)
	}
	meta, err := json.Marshal(orEmptyMeta(p.Source.Meta))
	if err != nil {
		return err
	}
	prev := views.Preview{Upload: p.Upload, Source: p.Source.Kind, SourceMeta: string(meta), Signature: views.SignatureOf(p.Verdict), Installed: p.Installed}
	return h.installStep(c, http.StatusOK, "Install "+p.Upload.Manifest.PluginID(), views.InstallPreview(fragmentChrome(c), prev))
}

func orEmptyMeta(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// formSource reads the source the preview's form carries back.
func formSource(c echo.Context) (appinstall.Source, error) {
	src := appinstall.Source{Kind: c.FormValue("source"), Meta: map[string]any{}}
	switch src.Kind {
	case "":
		src.Kind = appinstall.SourcePackage
	case appinstall.SourcePackage, appinstall.SourceMarketplace, appinstall.SourceGitHub:
	default:
		return src, plugboard.Errorf(plugboard.EINVALID, "Unknown package source %q.", src.Kind)
	}
	raw := c.FormValue("source_meta")
	if raw == "" {
		return src, nil
	}
	if len(raw) > maxSourceMeta || json.Unmarshal([]byte(raw), &src.Meta) != nil {
		return src, plugboard.Errorf(plugboard.EINVALID, "The package's source details are malformed.")
	}
	return src, nil
}

// readUpload reads the uploaded file, refusing one over the size limit.
func readUpload(c echo.Context) (string, []byte, error) {
	// The body was cut off at the route's limit (limitBody); the file
	// itself may still be over the package limit.
	limit := page.MaxUpload()
	fh, err := c.FormFile(uploadField)
	switch {
	case err != nil:
		return "", nil, plugboard.Errorf(plugboard.EINVALID, "Choose a plugin package (.difypkg) to upload.")
	case fh.Size > limit:
		return fh.Filename, nil, tooLarge(fh.Size, limit)
	}
	f, err := fh.Open()
	if err != nil {
		return fh.Filename, nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	return fh.Filename, data, err
}

// tooLarge is the error of a package over the limit.
func tooLarge(size, limit int64) error {
	if size > limit {
		got, most := views.Bytes(size), views.Bytes(limit)
		if got == most { // just over: rounded, both would read the same
			got, most = fmt.Sprintf("%d bytes", size), fmt.Sprintf("%s (%d bytes)", most, limit)
		}
		return plugboard.Errorf(plugboard.EINVALID, "The package is %s; the limit is %s.", got, most)
	}
	return plugboard.Errorf(plugboard.EINVALID, "The package is larger than the limit of %s.", views.Bytes(limit))
}

// uploadFailed shows why a file could not be uploaded or installed.
func (h *Handlers) uploadFailed(c echo.Context, name string, err error) error {
	if plugboard.ErrorCode(err) == plugboard.EINTERNAL {
		h.Log.Warn("install failed", "file", name, "err", err)
	}
	return h.installStep(c, http.StatusUnprocessableEntity, "Can't install", views.UploadError(name, page.DaemonProblem(err)))
}

// installStep answers with one step of the install dialog: the fragment for
// htmx, a page holding it otherwise.
func (h *Handlers) installStep(c echo.Context, status int, title string, step templ.Component) error {
	if page.IsHTMX(c) {
		return page.Render(c, status, step)
	}
	return page.Render(c, status, views.InstallPage(h.Chrome(c, title, views.NavPlugins), step))
}

// install installs an uploaded package (form field uid), or upgrades the
// installed version (field original) to it, and answers with the task.
func (h *Handlers) install(c echo.Context) error {
	uid := c.FormValue("uid")
	if _, err := plugboard.ParseIdentifier(uid); err != nil {
		return plugboard.Errorf(plugboard.EINVALID, "No package to install: upload one first.")
	}
	src, err := formSource(c)
	if err != nil {
		return err
	}
	return h.startInstall(c, appinstall.Choice{UID: uid, Original: c.FormValue("original"),
		ConfirmCodeChange: c.FormValue("confirm_code_change") != "", Source: src})
}

// startInstall starts installing (or, with an original, upgrading to) a
// stored package and shows its task, which polls itself until done.
func (h *Handlers) startInstall(c echo.Context, ch appinstall.Choice) error {
	st, err := h.installs.Install(page.Ctx(c), page.CurrentUser(c), ch)
	if err != nil {
		return h.uploadFailed(c, "", err)
	}
	if st.AlreadyInstalled {
		return h.installStep(c, http.StatusOK, "Installed", views.AlreadyInstalled(st.PluginID))
	}
	return h.showStartedTask(c, st.TaskID)
}

// showStartedTask shows a task just started and tells the header's
// indicator to look again.
func (h *Handlers) showStartedTask(c echo.Context, taskID string) error {
	t, err := h.daemon.Task(page.Ctx(c), taskID)
	if err != nil {
		return h.uploadFailed(c, "", fmt.Errorf("read install task %s: %w", taskID, err))
	}
	c.Response().Header().Set("HX-Trigger", "tasks-changed")
	return h.installStep(c, http.StatusOK, "Installing", views.TaskProgress(fragmentChrome(c), t))
}

// fragmentChrome is what a fragment's components need of the Chrome: the
// user (for Can) and the CSRF token. Unlike h.chrome it takes no flashes.
func fragmentChrome(c echo.Context) views.Chrome {
	return views.Chrome{User: page.CurrentUser(c), CSRF: page.CSRFToken(c), Permissions: page.Permissions(c)}
}
