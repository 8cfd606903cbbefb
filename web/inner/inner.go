// Package inner is the admin app's inner API: the HTTP routes the daemon
// forwards plugins' calls back to (Dify's /inner/api/* paths, so Dify's
// daemon can call Plugboard's app too), authenticated by the shared key in
// X-Inner-Api-Key only; and the routes plugins upload the files they asked
// for to, and the files are downloaded from. The answers are made by
// app/callback; the handlers only read, authenticate and frame.
package inner

import (
	"crypto/subtle"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/app/callback"
	"github.com/plugboard/plugboard/daemon/innerapi"
)

// Handlers serve the inner API and the plugin file routes.
type Handlers struct {
	key string
	svc *callback.Service
	log *slog.Logger
	mcp MCPRelay
}

// MCPRelay answers MCP servers' bridges (app/mcpserver): an HTTP server's
// relayed requests, a stdio server's environment; it authenticates them
// itself, by the server's relay token.
type MCPRelay interface {
	ServeRelay(w http.ResponseWriter, r *http.Request, id string)
	ServeEnv(w http.ResponseWriter, r *http.Request, id string)
}

// WithMCPRelay mounts the relay at MCPRelayRoute and MCPEnvRoute too.
func (h *Handlers) WithMCPRelay(r MCPRelay) *Handlers { h.mcp = r; return h }

// MCPRelayRoute is the relay's route pattern.
const MCPRelayRoute = "/inner/mcp/:id"

// MCPEnvRoute is where a stdio server's bridge fetches its environment.
const MCPEnvRoute = "/inner/mcp/:id/env"

// New returns the handlers; key is the inner API's key ("": there is no
// inner API, every path 404s).
func New(key string, svc *callback.Service, log *slog.Logger) *Handlers {
	if log == nil {
		log = slog.Default()
	}
	return &Handlers{key: key, svc: svc, log: log}
}

// Routes mounts the inner API and the file routes.
func (h *Handlers) Routes(e *echo.Echo) {
	e.POST(innerapi.Prefix+"*", h.call)
	e.POST(callback.UploadPath+":token", h.upload)
	e.GET(callback.DownloadPath+":token/:name", h.download)
	if h.mcp != nil {
		relay := func(c echo.Context) error {
			h.mcp.ServeRelay(c.Response(), c.Request(), c.Param("id"))
			return nil
		}
		e.GET(MCPRelayRoute, relay)
		e.POST(MCPRelayRoute, relay)
		e.DELETE(MCPRelayRoute, relay)
		e.GET(MCPEnvRoute, func(c echo.Context) error {
			h.mcp.ServeEnv(c.Response(), c.Request(), c.Param("id"))
			return nil
		})
	}
}

// call answers one call back: a length-prefixed stream of envelopes for a
// streamed path, else one JSON envelope.
func (h *Handlers) call(c echo.Context) error {
	r := c.Request()
	if h.key == "" {
		return echo.ErrNotFound // no key configured: there is no inner API
	}
	if subtle.ConstantTimeCompare([]byte(r.Header.Get(innerapi.HeaderKey)), []byte(h.key)) != 1 {
		return unary(c, http.StatusUnauthorized, nil, errors.New("The inner API key is missing or wrong."))
	}
	path := strings.TrimPrefix(r.URL.Path, innerapi.Prefix)
	if !callback.Known(path) {
		return unary(c, http.StatusNotFound, nil, plugboard.Errorf(plugboard.ENOTFOUND, "There is no call back %q.", path))
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return unary(c, http.StatusRequestEntityTooLarge, nil, errors.New("The call back's request could not be read: "+err.Error()))
	}
	call := &callback.Call{PluginID: r.Header.Get(innerapi.HeaderPlugin), Depth: depth(r), Path: path, Body: body,
		BaseURL: c.Scheme() + "://" + r.Host}
	if innerapi.Streamed(path) {
		return h.stream(c, call)
	}
	var result any
	err = h.svc.Handle(r.Context(), call, func(v any) error { result = v; return nil })
	h.logInternal(call, err)
	return unary(c, plugboard.ErrorStatus(plugboard.ErrorCode(err)), result, err)
}

// depth is the call back's depth as the daemon sent it (1 when absent).
func depth(r *http.Request) int {
	n, err := strconv.Atoi(r.Header.Get(innerapi.HeaderCallDepth))
	if err != nil || n < 1 {
		return 1
	}
	return n
}

// logInternal logs a call back that failed on the app's side (not the
// plugin's request, a model's or a tool's refusal), once.
func (h *Handlers) logInternal(call *callback.Call, err error) {
	if err != nil && plugboard.ErrorCode(err) == plugboard.EINTERNAL {
		h.log.Error("inner api: call back failed", "plugin", call.PluginID, "path", call.Path, "err", err)
	}
}

// unary writes one envelope: the data, or the error's message.
func unary(c echo.Context, status int, data any, err error) error {
	if err != nil {
		if status < 400 {
			status = http.StatusInternalServerError
		}
		return c.JSONBlob(status, innerapi.ErrorFrame(message(err)))
	}
	b, merr := innerapi.DataFrame(data)
	if merr != nil {
		return c.JSONBlob(http.StatusInternalServerError, innerapi.ErrorFrame("The answer could not be written: "+merr.Error()))
	}
	return c.JSONBlob(http.StatusOK, b)
}

// message is an error as the plugin reads it: ours worded for it, any
// other as what failed.
func message(err error) string {
	if plugboard.ErrorCode(err) == plugboard.EINTERNAL {
		return "The platform failed to answer: " + err.Error()
	}
	return plugboard.ErrorMessage(err)
}

// stream writes each chunk as a frame as it comes, flushed; a failure is
// an error frame, and the body ends.
func (h *Handlers) stream(c echo.Context, call *callback.Call) error {
	w := c.Response()
	w.Header().Set(echo.HeaderContentType, "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	var mu sync.Mutex
	write := func(payload []byte) error {
		mu.Lock()
		defer mu.Unlock()
		if err := innerapi.WriteFrame(w, payload); err != nil {
			return err
		}
		return rc.Flush()
	}
	err := h.svc.Handle(c.Request().Context(), call, func(v any) error {
		b, err := innerapi.DataFrame(v)
		if err != nil {
			return err
		}
		return write(b)
	})
	h.logInternal(call, err)
	if err != nil {
		if werr := write(innerapi.ErrorFrame(message(err))); werr != nil {
			h.log.Warn("inner api: the stream's reader went away", "plugin", call.PluginID, "path", call.Path, "err", werr)
		}
	}
	return nil
}

// upload takes the file a plugin asked to upload (multipart field "file")
// and answers 201 with Dify's file object; an unknown, spent or expired
// token is 404, a file over the limit 413.
func (h *Handlers) upload(c echo.Context) error {
	fh, err := c.FormFile("file")
	if err != nil {
		return c.JSON(http.StatusBadRequest, map[string]string{"error": "Send the file as the multipart field \"file\"."})
	}
	if fh.Size > h.svc.MaxFile() {
		return c.JSON(http.StatusRequestEntityTooLarge, map[string]string{"error": "The file is larger than the upload limit."})
	}
	f, err := fh.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, h.svc.MaxFile()+1))
	if err != nil {
		return err
	}
	up, err := h.svc.Upload(c.Request().Context(), c.Param("token"), data, c.Scheme()+"://"+c.Request().Host)
	if err != nil {
		return c.JSON(plugboard.ErrorStatus(plugboard.ErrorCode(err)), map[string]string{"error": plugboard.ErrorMessage(err)})
	}
	return c.JSON(http.StatusCreated, up)
}

// download serves an uploaded file to whoever holds its link, until it
// expires; as an attachment, never rendered in the app's origin.
func (h *Handlers) download(c echo.Context) error {
	f, err := h.svc.File(c.Request().Context(), c.Param("token"))
	if err != nil {
		return err
	}
	hdr := c.Response().Header()
	hdr.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": f.Filename}))
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Cache-Control", "private, no-store")
	ctype := f.MIME
	if _, _, err := mime.ParseMediaType(ctype); err != nil || ctype == "" {
		ctype = "application/octet-stream"
	}
	return c.Blob(http.StatusOK, ctype, f.Data)
}
