package guard

import (
	"errors"
	"fmt"
	"mime"
	"mime/multipart"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard/app/callback"
	appmodels "github.com/plugboard/plugboard/app/models"
	"github.com/plugboard/plugboard/daemon/innerapi"
	"github.com/plugboard/plugboard/views"
	"github.com/plugboard/plugboard/web/page"
)

// Request body limits. A form is small; only the routes that take files
// accept more, each as much as its files may be.
const (
	// formBodyLimit bounds every request body not named in uploadLimits.
	formBodyLimit = 1 << 20
	// multipartMemory is how much of a multipart body is held in memory;
	// file parts beyond it are spooled to temporary files, removed when
	// the request ends.
	multipartMemory = 1 << 20
	// playgroundFiles is how many files at the per-file limit one run may
	// carry in all.
	playgroundFiles = 4
)

// bodyLimit is the largest body a route takes (bytes, framing included),
// and what the refusal says: what may be at most how large.
type bodyLimit struct {
	bytes  int64
	what   string
	stated int64
}

// multipartSlack is room for the multipart framing around the files.
const multipartSlack = 64 << 10

// uploadLimits are the routes that take files, by route path; they take
// more only as multipart forms.
func uploadLimits() map[string]bodyLimit {
	return map[string]bodyLimit{
		"/plugins/upload":  {page.MaxUpload() + multipartSlack, "a plugin package", page.MaxUpload()},
		"/playground/runs": {playgroundFiles*views.PlaygroundFileLimit + multipartSlack, "the files of one run together", playgroundFiles * views.PlaygroundFileLimit},
		// A file a little over the model service's bound reaches the
		// tryout, which answers 413 in its form.
		"/models/try/speech2text": {appmodels.MaxAudio + multipartSlack, "an audio file", appmodels.MaxAudio},
	}
}

// Machine routes are called by the daemon (the inner API, for plugins'
// calls back) and by plugins (uploading a file they asked for), never by a
// browser: no session is loaded and no CSRF token asked for (each handler
// authenticates the caller itself: the inner API's key, an upload token),
// and each has its own body limit.
const (
	// innerBodyLimit bounds a call back's request: a speech2text audio
	// file, hex-encoded, is the largest.
	innerBodyLimit = 64 << 20
	// pluginUploadLimit bounds an uploaded plugin file with its framing.
	pluginUploadLimit = callback.MaxFileSize + multipartSlack
	// mcpRelayLimit bounds a JSON-RPC message the daemon relays to an HTTP
	// MCP server (the runtime's own line limit is 5 MiB).
	mcpRelayLimit = 16 << 20
)

// machineLimit is the body limit of a machine route, by the route's
// pattern (as web/inner mounts them), and whether route is one.
func machineLimit(route string) (bodyLimit, bool) {
	switch route {
	case innerapi.Prefix + "*":
		return bodyLimit{innerBodyLimit, "a call back", innerBodyLimit}, true
	case callback.UploadPath + ":token":
		return bodyLimit{pluginUploadLimit, "an uploaded file", callback.MaxFileSize}, true
	case "/inner/mcp/:id", "/inner/mcp/:id/env": // web/inner's MCPRelayRoute and MCPEnvRoute: MCP servers' relay
		return bodyLimit{mcpRelayLimit, "an MCP request", mcpRelayLimit}, true
	}
	return bodyLimit{}, false
}

// IsMachine reports whether the request was routed to a machine route.
func IsMachine(c echo.Context) bool {
	_, ok := machineLimit(c.Path())
	return ok
}

// LimitBody applies the route's body limit before anything reads the body:
// a declared length over it is refused unread, and the body is cut off
// past it. Forms are parsed here, so the CSRF check and the handlers find
// them parsed, with file parts past multipartMemory on disk. A body over
// the limit is answered 413.
func (g *Guard) LimitBody() echo.MiddlewareFunc {
	uploads := uploadLimits()
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			limit, ok := uploads[c.Path()]
			if m, isMachine := machineLimit(c.Path()); isMachine {
				limit, ok = m, true
			} else if !ok || mediaType(r) != "multipart/form-data" {
				limit = bodyLimit{formBodyLimit, "a form", formBodyLimit}
			}
			if r.ContentLength > limit.bytes {
				return tooLargeBody(limit)
			}
			r.Body = http.MaxBytesReader(c.Response(), r.Body, limit.bytes)
			if err := parseForm(r); err != nil {
				return formParseError(err, limit)
			}
			defer func() {
				if r.MultipartForm != nil {
					r.MultipartForm.RemoveAll()
				}
			}()
			return next(c)
		}
	}
}

// parseForm parses a urlencoded or multipart body; other bodies are left
// to the handler.
func parseForm(r *http.Request) error {
	switch mediaType(r) {
	case "multipart/form-data":
		return r.ParseMultipartForm(multipartMemory)
	case "application/x-www-form-urlencoded":
		return r.ParseForm()
	}
	return nil
}

// mediaType is the request's Content-Type without its parameters.
func mediaType(r *http.Request) string {
	ct, _, _ := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType))
	return ct
}

// formParseError is the answer to a form that could not be read: 413 when
// it went past the limit (or past the multipart reader's own limits on
// parts and headers), 400 when it is malformed.
func formParseError(err error, limit bodyLimit) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) || errors.Is(err, multipart.ErrMessageTooLarge) {
		return tooLargeBody(limit)
	}
	return echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("The form could not be read: %v.", err))
}

// tooLargeBody is the 413 of a body over its limit.
func tooLargeBody(limit bodyLimit) error {
	return echo.NewHTTPError(http.StatusRequestEntityTooLarge,
		fmt.Sprintf("This request is too large: %s may be at most %s.", limit.what, views.Bytes(limit.stated)))
}
