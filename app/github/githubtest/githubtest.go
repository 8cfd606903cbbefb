// Package githubtest is a stand-in for GitHub's REST API: an http.Handler
// serving releases and assets of repositories held in memory, in the same
// JSON shapes, for tests: serve it with httptest.NewServer and point the
// client's base URL at it. It can also misbehave on purpose: be slow,
// answer garbage, or report the rate limit.
package githubtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Asset is a file of a release.
type Asset struct {
	Name string
	Data []byte
	// Stream, when positive, serves this many zero bytes instead of Data
	// (a large asset without holding it in memory).
	Stream int64
	// Size is the size the API reports (0: the real one).
	Size int64
}

// Release is a release of a repository.
type Release struct {
	Tag        string
	Name       string
	Published  time.Time
	Prerelease bool
	Draft      bool
	Assets     []Asset
}

// Server is the stand-in. Its fields may be changed between requests.
type Server struct {
	mu    sync.Mutex
	repos map[string][]Release // "owner/name" → releases, newest first

	// Garbage makes every API answer a non-JSON page.
	Garbage bool
	// RateLimited makes every API answer GitHub's 403 rate-limit answer.
	RateLimited bool
	// Delay holds every answer back this long (or until the client gives up).
	Delay time.Duration

	auth []string
}

// New returns a stand-in with no repositories.
func New() *Server { return &Server{repos: map[string][]Release{}} }

// AddRepo creates a repository (with no releases yet).
func (s *Server) AddRepo(repo string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.repos[repo]; !ok {
		s.repos[repo] = nil
	}
}

// AddRelease adds a release to a repository (creating it), newest first.
func (s *Server) AddRelease(repo string, r Release) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.Published.IsZero() {
		r.Published = time.Date(2026, 1, 1+len(s.repos[repo]), 12, 0, 0, 0, time.UTC)
	}
	s.repos[repo] = append([]Release{r}, s.repos[repo]...)
}

// Authorizations returns the Authorization headers received, in order.
func (s *Server) Authorizations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.auth...)
}

// ServeHTTP answers GitHub's release routes and the download links.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.auth = append(s.auth, r.Header.Get("Authorization"))
	delay, garbage, limited := s.Delay, s.Garbage, s.RateLimited
	s.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case limited:
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10))
		http.Error(w, `{"message":"API rate limit exceeded"}`, http.StatusForbidden)
	case garbage:
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<html><body>Welcome to nginx!</body></html>")
	case len(parts) >= 4 && parts[0] == "repos" && parts[3] == "releases":
		s.serveAPI(w, r, parts[1]+"/"+parts[2], parts[4:])
	case len(parts) == 5 && parts[0] == "download":
		s.serveAsset(w, parts[1]+"/"+parts[2], parts[3], parts[4])
	default:
		notFound(w)
	}
}

// serveAPI answers /repos/{o}/{r}/releases[/tags/{tag}|/assets/{id}].
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, repo string, rest []string) {
	rels, ok := s.releases(repo)
	switch {
	case !ok:
		notFound(w)
	case len(rest) == 0:
		out := make([]map[string]any, len(rels))
		for i, rel := range rels {
			out[i] = releaseJSON(r, repo, rel)
		}
		writeJSON(w, out)
	case len(rest) == 2 && rest[0] == "tags":
		for _, rel := range rels {
			if rel.Tag == rest[1] {
				writeJSON(w, releaseJSON(r, repo, rel))
				return
			}
		}
		notFound(w)
	case len(rest) == 2 && rest[0] == "assets" && r.Header.Get("Accept") == "application/octet-stream":
		tag, name, _ := strings.Cut(rest[1], "~")
		s.serveAsset(w, repo, tag, name)
	default:
		notFound(w)
	}
}

func (s *Server) releases(repo string) ([]Release, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rels, ok := s.repos[repo]
	return rels, ok
}

// serveAsset sends an asset's bytes.
func (s *Server) serveAsset(w http.ResponseWriter, repo, tag, name string) {
	rels, _ := s.releases(repo)
	for _, rel := range rels {
		for _, a := range rel.Assets {
			if rel.Tag == tag && a.Name == name {
				w.Header().Set("Content-Type", "application/octet-stream")
				writeAsset(w, a)
				return
			}
		}
	}
	notFound(w)
}

// writeAsset writes the data, or Stream zero bytes without a length.
func writeAsset(w http.ResponseWriter, a Asset) {
	if a.Stream <= 0 {
		w.Write(a.Data)
		return
	}
	chunk := make([]byte, 64<<10)
	for left := a.Stream; left > 0; left -= int64(len(chunk)) {
		if _, err := w.Write(chunk[:min(left, int64(len(chunk)))]); err != nil {
			return
		}
	}
}

// releaseJSON is GitHub's release object (the fields Plugboard reads).
func releaseJSON(r *http.Request, repo string, rel Release) map[string]any {
	host := "http://" + r.Host
	assets := make([]map[string]any, len(rel.Assets))
	for i, a := range rel.Assets {
		size := a.Size
		if size == 0 {
			size = max(int64(len(a.Data)), a.Stream)
		}
		assets[i] = map[string]any{
			"name": a.Name, "size": size, "content_type": "application/octet-stream",
			"browser_download_url": fmt.Sprintf("%s/download/%s/%s/%s", host, repo, rel.Tag, a.Name),
			"url":                  fmt.Sprintf("%s/repos/%s/releases/assets/%s~%s", host, repo, rel.Tag, a.Name),
		}
	}
	return map[string]any{
		"tag_name": rel.Tag, "name": rel.Name, "published_at": rel.Published.UTC().Format(time.RFC3339),
		"prerelease": rel.Prerelease, "draft": rel.Draft, "assets": assets,
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func notFound(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusNotFound)
	io.WriteString(w, `{"message":"Not Found","documentation_url":"https://docs.github.com/rest"}`)
}
