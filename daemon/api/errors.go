package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/runtime"
)

// failure is an error as the API reports it.
type failure struct {
	Status    int    // HTTP status
	Code      int    // envelope code
	ErrorType string // Dify error type
	Message   string // caller-facing message
}

// kinds maps each error code to its envelope code and Dify error type; the
// HTTP status is plugboard.ErrorStatus's.
var kinds = map[string]failure{
	plugboard.EINVALID:      {Code: apispec.CodeBadRequest, ErrorType: apispec.ErrBadRequest},
	plugboard.ENOTFOUND:     {Code: apispec.CodeNotFound, ErrorType: apispec.ErrNotFound},
	plugboard.ECONFLICT:     {Code: apispec.CodeConflict, ErrorType: apispec.ErrConflict},
	plugboard.EUNAUTHORIZED: {Code: apispec.CodeUnauthorized, ErrorType: apispec.ErrUnauthorized},
	plugboard.EFORBIDDEN:    {Code: apispec.CodeForbidden, ErrorType: apispec.ErrPermissionDenied},
	plugboard.EUNAVAILABLE:  {Code: apispec.CodeInternal, ErrorType: apispec.ErrUnavailable},
	plugboard.ETIMEOUT:      {Code: apispec.CodeInternal, ErrorType: apispec.ErrTimeout},
	plugboard.EBUSY:         {Code: apispec.CodeInternal, ErrorType: apispec.ErrBusy},
	plugboard.EINTERNAL:     {Code: apispec.CodeInternal, ErrorType: apispec.ErrInternal},
}

// busyRetryAfter is the Retry-After (seconds) of a busy plugin's 503.
const busyRetryAfter = "1"

// pluginScoped marks an error of a call about one plugin, so that not_found
// reads as Dify's PluginNotFoundError.
type pluginScoped struct{ error }

func (p pluginScoped) Unwrap() error { return p.error }

// inPlugin wraps err (when not nil) as pluginScoped.
func inPlugin(err error) error {
	if err == nil {
		return nil
	}
	return pluginScoped{err}
}

// describe is the one place errors become API failures.
func describe(err error) failure {
	var he *echo.HTTPError
	if errors.As(err, &he) {
		return describeEcho(he)
	}
	var tle tooLargeError
	if errors.As(err, &tle) {
		return tooLarge(tle.limit)
	}
	var pe *runtime.PluginError
	if errors.As(err, &pe) {
		return pluginFailure(pe)
	}
	code := plugboard.ErrorCode(err)
	f := kinds[code]
	f.Status, f.Message = plugboard.ErrorStatus(code), plugboard.ErrorMessage(err)
	var ps pluginScoped
	if f.ErrorType == apispec.ErrNotFound && errors.As(err, &ps) {
		f.ErrorType = apispec.ErrPluginNotFound
	}
	return f
}

// describeEcho maps echo's own errors (unknown route, wrong method, …).
func describeEcho(he *echo.HTTPError) failure {
	msg := fmt.Sprint(he.Message)
	switch he.Code {
	case http.StatusNotFound:
		return failure{he.Code, apispec.CodeNotFound, apispec.ErrNotFound, msg}
	case http.StatusUnauthorized:
		return failure{he.Code, apispec.CodeUnauthorized, apispec.ErrUnauthorized, msg}
	case http.StatusForbidden:
		return failure{he.Code, apispec.CodeForbidden, apispec.ErrPermissionDenied, msg}
	}
	if he.Code >= 500 {
		return failure{he.Code, apispec.CodeInternal, apispec.ErrInternal, msg}
	}
	return failure{he.Code, apispec.CodeBadRequest, apispec.ErrBadRequest, msg}
}

// tooLarge is the failure of an upload over limit bytes.
func tooLarge(limit int64) failure {
	return failure{http.StatusRequestEntityTooLarge, apispec.CodeBadRequest, apispec.ErrBadRequest,
		fmt.Sprintf("package is larger than the upload limit of %d bytes (%.1f MiB)", limit, float64(limit)/(1<<20))}
}

// pluginFailure reports a plugin's own error as Dify does: PluginInvokeError
// whose message is the plugin's error JSON.
func pluginFailure(pe *runtime.PluginError) failure {
	inner, _ := json.Marshal(map[string]any{"error_type": pe.Type, "message": pe.Message, "args": pe.Args})
	return failure{http.StatusInternalServerError, apispec.CodeInternal, apispec.ErrInvoke, string(inner)}
}

// encode renders f's envelope message: the JSON-encoded ErrorBody.
func (f failure) encode() string {
	b, _ := json.Marshal(apispec.ErrorBody{Message: f.Message, ErrorType: f.ErrorType})
	return string(b)
}

// handleError is echo's error handler: every error leaves as an envelope with
// a real status; internal errors are logged once with the request's details.
func (s *server) handleError(err error, c echo.Context) {
	f := s.refusal(metricsRoute(c, err), err, func(err error) { s.logFailure(c, err) })
	if c.Response().Committed {
		return
	}
	if plugboard.ErrorCode(err) == plugboard.EBUSY {
		c.Response().Header().Set("Retry-After", busyRetryAfter)
	}
	if werr := c.JSON(f.Status, envelope{Code: f.Code, Message: f.encode()}); werr != nil {
		s.log.Debug("write error reply", "err", werr)
	}
}

// refusal is how a call on route that err refused is answered: counted
// in the metrics, logged (log) when it is the daemon's failure, and
// described for its reply (over HTTP or to an in-process caller).
func (s *server) refusal(route string, err error, log func(error)) failure {
	f := describe(err)
	s.cfg.Metrics.Refused(route, f.ErrorType)
	if f.Status >= 500 {
		log(err)
	}
	return f
}

// streamFailure is the message of the error frame that ends a started
// stream with err; a failure that is not the plugin's own is logged (log).
func streamFailure(err error, log func(error)) string {
	var pe *runtime.PluginError
	if !errors.As(err, &pe) && plugboard.ErrorCode(err) == plugboard.EINTERNAL {
		log(err)
	}
	return describe(err).encode()
}

// logFailure logs err with the request's method, path and id.
func (s *server) logFailure(c echo.Context, err error) {
	s.log.Error("request failed", "method", c.Request().Method, "path", c.Request().URL.Path,
		"request_id", c.Response().Header().Get(echo.HeaderXRequestID), "err", err)
}

// metricsRoute is the route pattern a refused call matched, "unmatched" for
// unknown paths and methods (never the raw path: its values are unbounded).
func metricsRoute(c echo.Context, err error) string {
	var he *echo.HTTPError
	if errors.As(err, &he) && (he.Code == http.StatusNotFound || he.Code == http.StatusMethodNotAllowed) || c.Path() == "" {
		return "unmatched"
	}
	return c.Path()
}
