package web

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/views"
	"github.com/plugboard/plugboard/web/page"
)

// titles are the error page headings.
var titles = map[int]string{
	http.StatusBadRequest:            "Bad request",
	http.StatusUnauthorized:          "Please sign in",
	http.StatusForbidden:             "Not allowed",
	http.StatusNotFound:              "Page not found",
	http.StatusMethodNotAllowed:      "Not allowed",
	http.StatusConflict:              "Conflict",
	http.StatusRequestEntityTooLarge: "Too large",
	http.StatusUnprocessableEntity:   "Please check the form",
	http.StatusServiceUnavailable:    "Unavailable",
	http.StatusGatewayTimeout:        "Timed out",
}

// handleError is echo's error handler: it logs internal errors once and
// answers with an error page, or with a short text for htmx requests (which
// static/js/app.js shows as a toast).
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, message := s.describe(err, c)
	if page.IsHTMX(c) {
		c.String(status, message)
		return
	}
	title := titles[status]
	if title == "" {
		title = http.StatusText(status)
	}
	ch := s.kit.Chrome(c, title, "")
	if rerr := page.Render(c, status, views.ErrorPage(ch, status, message)); rerr != nil {
		s.log.Error("render error page", "err", rerr)
		c.String(status, message)
	}
}

// describe returns the status and the message to show for err, logging it
// when it is internal.
func (s *Server) describe(err error, c echo.Context) (int, string) {
	var he *echo.HTTPError
	if errors.As(err, &he) {
		if he.Code == http.StatusNotFound {
			return he.Code, "There is no page at " + c.Request().URL.Path + "."
		}
		if msg, ok := he.Message.(string); ok && he.Code < 500 {
			return he.Code, msg
		}
		err = he
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return http.StatusRequestEntityTooLarge, "This request is too large: it may be at most " + views.Bytes(mbe.Limit) + "."
	}
	code := plugboard.ErrorCode(err)
	if code == plugboard.EINTERNAL {
		s.log.Error("request failed", slog.String("method", c.Request().Method),
			slog.String("path", c.Request().URL.Path),
			slog.String("request_id", c.Response().Header().Get(echo.HeaderXRequestID)),
			slog.Any("err", err))
		return http.StatusInternalServerError, "Something went wrong on our side; it has been logged. Please try again."
	}
	return page.StatusOf(code), plugboard.ErrorMessage(err)
}
