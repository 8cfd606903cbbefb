package api

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard"
)

// maxJSONBody bounds a JSON request body.
const maxJSONBody = 16 << 20

// bindJSON decodes a JSON request body into v. Like Dify it accepts only
// Content-Type application/json (parameters such as charset allowed).
func bindJSON(c echo.Context, v any) error {
	r := c.Request()
	ct := r.Header.Get(echo.HeaderContentType)
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != echo.MIMEApplicationJSON {
		return plugboard.Errorf(plugboard.EINVALID, "request body must be JSON with Content-Type application/json, not %q", ct)
	}
	dec := json.NewDecoder(http.MaxBytesReader(c.Response(), r.Body, maxJSONBody))
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return plugboard.Errorf(plugboard.EINVALID, "request body has data after its JSON value")
	}
	return nil
}

// jsonError describes why a request body did not decode.
func jsonError(err error) error {
	var mbe *http.MaxBytesError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &mbe):
		return plugboard.Errorf(plugboard.EINVALID, "request body is larger than %d bytes", mbe.Limit)
	case errors.Is(err, io.EOF):
		return plugboard.Errorf(plugboard.EINVALID, "request body is empty; a JSON object is required")
	case errors.As(err, &te):
		return plugboard.Errorf(plugboard.EINVALID, "request body field %q must be %s, not a JSON %s", te.Field, te.Type, te.Value)
	}
	return plugboard.Errorf(plugboard.EINVALID, "request body is not valid JSON: %v", err)
}
