package callback

import (
	"context"
	"mime"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/store"
)

// Where plugin files are uploaded and served, under the app's base URL:
// the upload URL ends in the file's upload token, the download URL in its
// download token.
const (
	UploadPath   = "/files/upload/for-plugin/"
	DownloadPath = "/files/plugin/"
)

// uploadRequest answers Dify's upload_file: a pending file is recorded and
// the plugin gets its upload URL ({"url": …}), good for
// store.PluginUploadTTL, to POST the bytes to.
func (s *Service) uploadRequest(ctx context.Context, c *Call, emit func(any) error) (string, error) {
	var req struct {
		base
		Filename string `json:"filename"`
		MIMEType string `json:"mimetype"`
	}
	if err := decode(c, &req); err != nil {
		return "", err
	}
	name := filepath.Base(strings.ReplaceAll(strings.TrimSpace(req.Filename), `\`, "/"))
	if err := required("filename", req.Filename, "mimetype", req.MIMEType); err != nil {
		return name, err
	}
	if name == "." || name == "/" || len(name) > 255 {
		return name, plugboard.Errorf(plugboard.EINVALID, "The file name %q cannot be used.", truncate(req.Filename, 80))
	}
	mt, _, err := mime.ParseMediaType(req.MIMEType)
	if err != nil {
		return name, plugboard.Errorf(plugboard.EINVALID, "The mimetype %q is not a media type.", truncate(req.MIMEType, 80))
	}
	f := &store.PluginFile{PluginID: c.PluginID, UserID: req.UserID, Filename: name, MIME: mt}
	if err := s.cfg.Store.CreatePluginFile(ctx, f); err != nil {
		return name, err
	}
	return name, emit(map[string]string{"url": s.base(c.BaseURL) + UploadPath + f.UploadToken})
}

// UploadedFile is the answer to an upload, as Dify's SDK reads it.
type UploadedFile struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Size       int    `json:"size"`
	Extension  string `json:"extension"`
	MIMEType   string `json:"mime_type"`
	Type       string `json:"type"`
	PreviewURL string `json:"preview_url"`
}

// Upload stores the bytes of the pending file with the upload token, once,
// and returns it with its download URL. An unknown, spent or expired token
// is not_found; data over MaxFile is invalid (the caller bounds what it
// reads to MaxFile+1). baseURL is the address the upload came to, for the
// download URL when the service has no BaseURL.
func (s *Service) Upload(ctx context.Context, token string, data []byte, baseURL string) (*UploadedFile, error) {
	if int64(len(data)) > s.cfg.MaxFile {
		return nil, plugboard.Errorf(plugboard.EINVALID, "The file is larger than the %d-byte limit.", s.cfg.MaxFile)
	}
	f, err := s.cfg.Store.UploadPluginFile(ctx, token, data)
	outcome, detail := store.OutcomeSuccess, ""
	if err != nil {
		outcome, detail = store.OutcomeFailure, plugboard.ErrorMessage(err)
	}
	if f != nil {
		s.auditUpload(ctx, f, outcome, detail)
	}
	if err != nil {
		return nil, err
	}
	ext := strings.TrimPrefix(filepath.Ext(f.Filename), ".")
	return &UploadedFile{ID: f.ID, Name: f.Filename, Size: f.Size, Extension: ext, MIMEType: f.MIME,
		Type: fileType(f.MIME), PreviewURL: s.DownloadURL(f, baseURL)}, nil
}

func (s *Service) auditUpload(ctx context.Context, f *store.PluginFile, outcome, detail string) {
	if aerr := s.cfg.Store.AuditOutcome(context.WithoutCancel(ctx), "plugin "+f.PluginID, AuditAction,
		"upload "+truncate(f.Filename, 150), detail, outcome); aerr != nil {
		s.log.Error("call back: audit", "plugin", f.PluginID, "err", aerr)
	}
}

// DownloadURL is where an uploaded file is served until it expires, under
// the service's BaseURL, else baseURL.
func (s *Service) DownloadURL(f *store.PluginFile, baseURL string) string {
	return s.base(baseURL) + DownloadPath + f.DownloadToken + "/" + url.PathEscape(f.Filename)
}

// File returns the uploaded file with the download token; not_found when
// there is none or its link expired.
func (s *Service) File(ctx context.Context, token string) (*store.PluginFile, error) {
	return s.cfg.Store.FindPluginFile(ctx, token)
}

// fileType is Dify's file type of a media type.
func fileType(mimeType string) string {
	major, minor, _ := strings.Cut(mimeType, "/")
	switch {
	case major == "image" || major == "audio" || major == "video":
		return major
	case major == "text", minor == "pdf", minor == "json", minor == "xml", minor == "msword",
		strings.HasPrefix(minor, "vnd.openxmlformats"), strings.HasPrefix(minor, "vnd.ms-"):
		return "document"
	}
	return "custom"
}
