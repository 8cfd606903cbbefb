package playground

import (
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"path/filepath"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/views"
	"github.com/plugboard/plugboard/web/page"
)

// parseFileParam reads the files uploaded for p (at most one for "file"),
// refusing a missing required one and any over views.PlaygroundFileLimit.
// It returns a message naming what is wrong, or the files read.
func parseFileParam(c echo.Context, p plugboard.Parameter) ([]*store.RunFile, string) {
	var headers []*multipart.FileHeader
	if form, err := c.MultipartForm(); err == nil {
		headers = form.File[views.ParamField(p.Name)]
	}
	headers = nonEmpty(headers)
	switch {
	case len(headers) == 0 && p.Required:
		return nil, p.Name + " is required: choose a file."
	case len(headers) > 1 && p.Type == plugboard.ParamFile:
		return nil, p.Name + " takes one file, not " + fmt.Sprint(len(headers)) + "."
	}
	var out []*store.RunFile
	for _, fh := range headers {
		if fh.Size > views.PlaygroundFileLimit {
			return nil, fmt.Sprintf("%s: %s is %s, over the %s limit per file.", p.Name, fh.Filename,
				views.Bytes(fh.Size), views.Bytes(views.PlaygroundFileLimit))
		}
		f, err := readRunFile(p.Name, fh)
		if err != nil {
			return nil, fmt.Sprintf("%s: %s could not be read: %v.", p.Name, fh.Filename, err)
		}
		out = append(out, f)
	}
	return out, ""
}

// nonEmpty drops the empty part a browser sends for a file input left blank.
func nonEmpty(hs []*multipart.FileHeader) []*multipart.FileHeader {
	var out []*multipart.FileHeader
	for _, h := range hs {
		if h.Filename != "" || h.Size > 0 {
			out = append(out, h)
		}
	}
	return out
}

func readRunFile(param string, fh *multipart.FileHeader) (*store.RunFile, error) {
	r, err := fh.Open()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, views.PlaygroundFileLimit+1))
	if err != nil {
		return nil, err
	}
	name := filepath.Base(strings.ReplaceAll(fh.Filename, `\`, "/"))
	return &store.RunFile{Param: param, Filename: name, MIME: fileMIME(fh.Header.Get("Content-Type"), name, data), Data: data}, nil
}

// fileMIME is the file's media type: the browser's, else the extension's,
// else sniffed from the bytes.
func fileMIME(declared, name string, data []byte) string {
	if t, _, err := mime.ParseMediaType(declared); err == nil && t != "application/octet-stream" {
		return t
	}
	if t, _, err := mime.ParseMediaType(mime.TypeByExtension(filepath.Ext(name))); err == nil && t != "" {
		return t
	}
	t, _, _ := mime.ParseMediaType(http.DetectContentType(data))
	return t
}

// publicBase is the app's address as a plugin can reach it: the configured
// one, else this request's.
func (h *Handlers) publicBase(c echo.Context) string {
	if h.cfg.PublicURL != "" {
		return strings.TrimRight(h.cfg.PublicURL, "/")
	}
	return c.Scheme() + "://" + c.Request().Host
}

// runUpload serves a run's uploaded file to whoever holds its token (the
// plugin), until the token expires. Unknown and expired tokens are 404.
func (h *Handlers) runUpload(c echo.Context) error {
	f, err := h.store.FindRunFile(page.Ctx(c), c.Param("token"))
	if err != nil {
		return err
	}
	hdr := c.Response().Header()
	hdr.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": f.Filename}))
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Cache-Control", "no-store")
	ctype := f.MIME
	if _, _, err := mime.ParseMediaType(ctype); err != nil || ctype == "" {
		ctype = "application/octet-stream"
	}
	return c.Blob(http.StatusOK, ctype, f.Data)
}
