package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/app/install"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/views"
	"github.com/plugboard/plugboard/web/page"
)

// uploadField is the file input of the upload form.
const uploadField = "package"

// multipartSlack is room for the multipart framing around the package.
const multipartSlack = 64 << 10

// installService is what the install handlers need of app/install:
// fetching from each source, the preview every source ends in, install and
// uninstall, the examples and the marketplace's latest versions.
type installService interface {
	FetchMarketplace(ctx context.Context, u *store.User, pluginID, version string) (*install.Package, error)
	FetchGitHub(ctx context.Context, u *store.User, a install.GitHubAsset) (*install.Package, error)
	Preview(ctx context.Context, u *store.User, p install.Package) (*install.Preview, error)
	PreviewExample(ctx context.Context, u *store.User, file string) (*install.Preview, error)
	Install(ctx context.Context, u *store.User, ch install.Choice) (*install.Started, error)
	Uninstall(ctx context.Context, u *store.User, pluginID string, deleteCredentials bool) (*install.Uninstalled, error)
	ExampleFiles() []string
	FindExample(file string) (*install.Example, error)
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
func (s *Server) uploadPackage(c echo.Context) error {
	name, data, err := readUpload(c)
	if err != nil {
		return s.uploadFailed(c, name, err)
	}
	p, err := s.installs.Preview(ctx(c), CurrentUser(c), install.Package{Name: name, Data: data, Source: install.Source{Kind: install.SourcePackage}})
	return s.showPreview(c, name, p, err)
}

// showPreview answers with the preview of a stored package (or why there
// is none), whose install button records the package's source. Every
// source (upload, marketplace, GitHub) ends here.
func (s *Server) showPreview(c echo.Context, name string, p *install.Preview, err error) error {
	if err != nil {
		return s.uploadFailed(c, name, err)
	}
	meta, err := json.Marshal(orEmptyMeta(p.Source.Meta))
	if err != nil {
		return err
	}
	prev := views.Preview{Upload: p.Upload, Source: p.Source.Kind, SourceMeta: string(meta), Signature: views.SignatureOf(p.Verdict), Installed: p.Installed}
	return s.installStep(c, http.StatusOK, "Install "+p.Upload.Manifest.PluginID(), views.InstallPreview(fragmentChrome(c), prev))
}

func orEmptyMeta(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// formSource reads the source the preview's form carries back.
func formSource(c echo.Context) (install.Source, error) {
	src := install.Source{Kind: c.FormValue("source"), Meta: map[string]any{}}
	switch src.Kind {
	case "":
		src.Kind = install.SourcePackage
	case install.SourcePackage, install.SourceMarketplace, install.SourceGitHub:
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
	limit := maxUpload()
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
func (s *Server) uploadFailed(c echo.Context, name string, err error) error {
	if plugboard.ErrorCode(err) == plugboard.EINTERNAL {
		s.log.Warn("install failed", "file", name, "err", err)
	}
	return s.installStep(c, http.StatusUnprocessableEntity, "Can't install", views.UploadError(name, failureMessage(err)))
}

// failureMessage words err for the install dialog: the daemon's reason, or
// why it could not be reached.
func failureMessage(err error) string {
	if plugboard.ErrorCode(err) == plugboard.EINTERNAL {
		return page.DaemonProblem(err)
	}
	return plugboard.ErrorMessage(err)
}

// installStep answers with one step of the install dialog: the fragment for
// htmx, a page holding it otherwise.
func (s *Server) installStep(c echo.Context, status int, title string, step templ.Component) error {
	if isHTMX(c) {
		return s.render(c, status, step)
	}
	return s.render(c, status, views.InstallPage(s.chrome(c, title, views.NavPlugins), step))
}

// install installs an uploaded package (form field uid), or upgrades the
// installed version (field original) to it, and answers with the task.
func (s *Server) install(c echo.Context) error {
	uid := c.FormValue("uid")
	if _, err := plugboard.ParseIdentifier(uid); err != nil {
		return plugboard.Errorf(plugboard.EINVALID, "No package to install: upload one first.")
	}
	src, err := formSource(c)
	if err != nil {
		return err
	}
	return s.startInstall(c, install.Choice{UID: uid, Original: c.FormValue("original"),
		ConfirmCodeChange: c.FormValue("confirm_code_change") != "", Source: src})
}

// startInstall starts installing (or, with an original, upgrading to) a
// stored package and shows its task, which polls itself until done.
func (s *Server) startInstall(c echo.Context, ch install.Choice) error {
	st, err := s.installs.Install(ctx(c), CurrentUser(c), ch)
	if err != nil {
		return s.uploadFailed(c, "", err)
	}
	if st.AlreadyInstalled {
		return s.installStep(c, http.StatusOK, "Installed", views.AlreadyInstalled(st.PluginID))
	}
	return s.showStartedTask(c, st.TaskID)
}

// showStartedTask shows a task just started and tells the header's
// indicator to look again.
func (s *Server) showStartedTask(c echo.Context, taskID string) error {
	t, err := s.daemon.Task(ctx(c), taskID)
	if err != nil {
		return s.uploadFailed(c, "", fmt.Errorf("read install task %s: %w", taskID, err))
	}
	c.Response().Header().Set("HX-Trigger", "tasks-changed")
	return s.installStep(c, http.StatusOK, "Installing", views.TaskProgress(fragmentChrome(c), t))
}

// fragmentChrome is what a fragment's components need of the Chrome: the
// user (for Can) and the CSRF token. Unlike s.chrome it takes no flashes.
func fragmentChrome(c echo.Context) views.Chrome {
	return views.Chrome{User: CurrentUser(c), CSRF: csrfToken(c), Permissions: permissionsOf(c)}
}
