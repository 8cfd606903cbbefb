package guard

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/gorilla/sessions"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/web/page"
)

// sessionName is the cookie that carries the session token and flashes.
const sessionName = page.SessionName

// LoadSessionKeys returns the cookie keys kept in path (an authentication
// key and an encryption key, base64, one a line), creating the file with
// mode 0600 and fresh random keys at first start.
func LoadSessionKeys(path string) ([][]byte, error) {
	if data, err := os.ReadFile(path); err == nil {
		return parseKeys(path, string(data))
	} else if !os.IsNotExist(err) {
		return nil, err
	}
	keys := [][]byte{make([]byte, 64), make([]byte, 32)}
	var lines []string
	for _, k := range keys {
		if _, err := rand.Read(k); err != nil {
			return nil, err
		}
		lines = append(lines, base64.StdEncoding.EncodeToString(k))
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		return nil, err
	}
	return keys, nil
}

func parseKeys(path, data string) ([][]byte, error) {
	var keys [][]byte
	for _, line := range strings.Fields(data) {
		k, err := base64.StdEncoding.DecodeString(line)
		if err != nil {
			return nil, fmt.Errorf("%s: a line is not base64: %w", path, err)
		}
		keys = append(keys, k)
	}
	if len(keys) != 2 || len(keys[0]) < 32 || (len(keys[1]) != 32 && len(keys[1]) != 16) {
		return nil, fmt.Errorf("%s: want two base64 keys (authentication ≥ 32 bytes, encryption 16 or 32 bytes); delete the file to make new ones", path)
	}
	return keys, nil
}

func NewCookieStore(keys [][]byte) *sessions.CookieStore {
	cs := sessions.NewCookieStore(keys...)
	cs.Options = &sessions.Options{
		Path:     "/",
		MaxAge:   int(store.SessionTTL.Seconds()),
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	}
	return cs
}
