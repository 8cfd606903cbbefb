package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/plugboard/plugboard/sdk"
)

// maxFileInfoSize is the largest file file_info downloads.
const maxFileInfoSize = 32 << 20

// fileClient downloads files passed to tools.
var fileClient = &http.Client{Timeout: 60 * time.Second}

// fileInfo downloads the file parameter (a Dify file object: its bytes are
// at its url) and returns {filename, mime_type, size, sha256}.
func fileInfo(ctx context.Context, req *sdk.Request, w *sdk.Writer) error {
	f, ok := req.Raw("file").(map[string]any)
	if !ok {
		return errors.New("file is required: pass a file object with a url")
	}
	url, _ := f["url"].(string)
	if url == "" {
		return errors.New("the file has no url to download it from")
	}
	size, sum, err := download(ctx, url)
	if err != nil {
		return err
	}
	return w.JSON(map[string]any{"filename": f["filename"], "mime_type": f["mime_type"], "size": size, "sha256": sum})
}

// download fetches url and returns its size and SHA-256, refusing a body
// over maxFileInfoSize.
func download(ctx context.Context, url string) (int64, string, error) {
	r, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", fmt.Errorf("file url: %w", err)
	}
	resp, err := fileClient.Do(r)
	if err != nil {
		return 0, "", fmt.Errorf("download the file: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, "", fmt.Errorf("download the file: %s", resp.Status)
	}
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(resp.Body, maxFileInfoSize+1))
	switch {
	case err != nil:
		return 0, "", fmt.Errorf("download the file: %w", err)
	case n > maxFileInfoSize:
		return 0, "", fmt.Errorf("the file is over %d MiB", maxFileInfoSize>>20)
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}
