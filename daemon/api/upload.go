package api

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard"
)

// uploadField is the multipart field holding the package (Dify's name).
const uploadField = "dify_pkg"

// multipartSlack is room for the multipart framing and small form fields
// around the package in an upload's body.
const multipartSlack = 64 << 10

// upload stores a package from the multipart field dify_pkg; it does not install.
func (s *server) upload(c echo.Context) error {
	r := c.Request()
	limit := s.cfg.MaxUpload
	if r.ContentLength > limit+multipartSlack {
		return tooLargeError{limit}
	}
	r.Body = http.MaxBytesReader(c.Response(), r.Body, limit+multipartSlack)
	data, err := readPackageField(r, limit)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tooLargeError{limit}
		}
		return err
	}
	res, err := s.m.Upload(r.Context(), c.Param("tenant_id"), data)
	if err != nil {
		return err
	}
	return ok(c, res)
}

// readPackageField streams the multipart body to the dify_pkg part and reads
// it, failing when it holds more than limit bytes.
func readPackageField(r *http.Request, limit int64) ([]byte, error) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType)); mt != echo.MIMEMultipartForm {
		return nil, plugboard.Errorf(plugboard.EINVALID, "upload must be multipart/form-data with the package in field %s", uploadField)
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, plugboard.Errorf(plugboard.EINVALID, "upload is not a valid multipart form: %v", err)
	}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return nil, plugboard.Errorf(plugboard.EINVALID, "upload has no file field %s", uploadField)
		}
		if err != nil {
			return nil, multipartError(err)
		}
		if part.FormName() != uploadField {
			continue
		}
		// Sized from the body's length, so a package is read into one
		// buffer instead of a series of doubling ones.
		var buf bytes.Buffer
		buf.Grow(int(min(max(r.ContentLength, 0), limit+1)) + bytes.MinRead)
		_, err = buf.ReadFrom(io.LimitReader(part, limit+1))
		if err != nil {
			return nil, multipartError(err)
		}
		data := buf.Bytes()
		if int64(len(data)) > limit {
			return nil, tooLargeError{limit}
		}
		if len(data) == 0 {
			return nil, plugboard.Errorf(plugboard.EINVALID, "upload field %s is empty", uploadField)
		}
		return data, nil
	}
}

// multipartError keeps a body-limit error as it is and describes the rest.
func multipartError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return err
	}
	return plugboard.Errorf(plugboard.EINVALID, "upload is not a valid multipart form: %v", err)
}

// tooLargeError is an upload over the limit (413).
type tooLargeError struct{ limit int64 }

func (e tooLargeError) Error() string { return tooLarge(e.limit).Message }
