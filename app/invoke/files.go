package invoke

import (
	"path/filepath"
	"strings"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/store"
)

// difyFileIdentity marks a parameter value as a file, as Dify's File model
// serialises it; the plugin SDK downloads the bytes from its url.
const difyFileIdentity = "__dify__file__"

// IsFileParam reports whether p takes uploaded files.
func IsFileParam(p plugboard.Parameter) bool {
	return p.Type == plugboard.ParamFile || p.Type == plugboard.ParamFiles
}

// difyFileType is Dify's file type for a media type.
func difyFileType(mimeType string) string {
	major, minor, _ := strings.Cut(mimeType, "/")
	switch {
	case major == "image" || major == "audio" || major == "video":
		return major
	case major == "text", minor == "pdf", minor == "msword", minor == "json", minor == "xml",
		strings.HasPrefix(minor, "vnd.openxmlformats"), strings.HasPrefix(minor, "vnd.ms-"),
		strings.HasPrefix(minor, "vnd.oasis.opendocument"):
		return "document"
	}
	return "custom"
}

// FileValue is the parameter value the plugin receives for an uploaded
// file: Dify's file object, downloaded from base (the app's address as the
// plugin reaches it) with the file's token.
func FileValue(f *store.RunFile, base string) map[string]any {
	return map[string]any{
		"dify_model_identity": difyFileIdentity,
		"url":                 base + "/playground/files/" + f.Token,
		"mime_type":           f.MIME,
		"filename":            f.Filename,
		"extension":           filepath.Ext(f.Filename),
		"size":                f.Size,
		"type":                difyFileType(f.MIME),
	}
}

// storedFile is what a run's history keeps of an uploaded file: never its
// download URL.
func storedFile(f *store.RunFile) map[string]any {
	return map[string]any{"filename": f.Filename, "mime_type": f.MIME, "size": len(f.Data)}
}

// IsStoredFile reports whether a stored parameter value is what a run's
// history keeps of an uploaded file (its name, type and size; no URL).
func IsStoredFile(v any) bool {
	m, ok := v.(map[string]any)
	_, named := m["filename"]
	_, hasURL := m["url"]
	return ok && named && !hasURL
}

// putFileValues sets each file parameter's value in into, made from its
// files by value: a "file" gets one object, "files" a list.
func putFileValues(into map[string]any, decl []plugboard.Parameter, files []*store.RunFile, value func(*store.RunFile) map[string]any) {
	for _, p := range decl {
		var vs []any
		for _, f := range files {
			if f.Param == p.Name {
				vs = append(vs, value(f))
			}
		}
		switch {
		case len(vs) == 0:
		case p.Type == plugboard.ParamFile:
			into[p.Name] = vs[0]
		default:
			into[p.Name] = vs
		}
	}
}
