// Package github lists a repository's releases through GitHub's REST API
// (github.com or a GitHub Enterprise server) and downloads their plugin
// package assets, every request through the SSRF guard and every download
// under a size cap. Its errors name what went wrong in words for the user:
// unreachable, too slow, a garbage answer, no such repository, the rate
// limit, no releases, no package asset, an asset over the cap.
//
// Package githubtest serves the same REST shapes from memory for tests.
package github

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/plugboard/plugboard/app/netguard"
)

// DefaultBaseURL is github.com's API. A GitHub Enterprise server's is
// https://HOST/api/v3.
const DefaultBaseURL = "https://api.github.com"

// MaxAssetSize is the default cap on a downloaded package, the daemon's
// upload limit.
const MaxAssetSize = 15 << 20

// PackageExt is the file extension of a plugin package asset.
const PackageExt = ".difypkg"

// Default bounds of one request.
const (
	DefaultConnectTimeout = 10 * time.Second
	DefaultTimeout        = 60 * time.Second
)

// maxListBody bounds the JSON of a release list.
const maxListBody = 4 << 20

// Release is one release of a repository (the fields Plugboard uses of
// GitHub's release object).
type Release struct {
	Tag         string    `json:"tag_name"`
	Name        string    `json:"name"`
	PublishedAt time.Time `json:"published_at"`
	Prerelease  bool      `json:"prerelease"`
	Draft       bool      `json:"draft"`
	Assets      []Asset   `json:"assets"`
}

// Asset is a file attached to a release.
type Asset struct {
	Name               string `json:"name"`
	Size               int64  `json:"size"`
	BrowserDownloadURL string `json:"browser_download_url"`
	URL                string `json:"url"` // the asset's API URL
	ContentType        string `json:"content_type"`
}

// Packages returns the release's plugin package (.difypkg) assets.
func (r Release) Packages() []Asset {
	var out []Asset
	for _, a := range r.Assets {
		if strings.HasSuffix(strings.ToLower(a.Name), PackageExt) {
			out = append(out, a)
		}
	}
	return out
}

// Options configure a Client.
type Options struct {
	// BaseURL is the API's root ("" for DefaultBaseURL).
	BaseURL string
	// Token, when set, is sent as a bearer token (private repositories,
	// higher rate limit).
	Token string
	// Guard checks every address dialed; required.
	Guard *netguard.Guard
	// Timeout bounds each request, body included (0: DefaultTimeout);
	// ConnectTimeout bounds connecting (0: DefaultConnectTimeout).
	Timeout, ConnectTimeout time.Duration
	// MaxAssetSize caps a download (0: MaxAssetSize).
	MaxAssetSize int64
}

// Client talks to one GitHub API.
type Client struct {
	base    *url.URL
	token   string
	http    *http.Client
	timeout time.Duration
	maxSize int64
}

// New returns a client for the API at o.BaseURL, which must be an http or
// https URL.
func New(o Options) (*Client, error) {
	if o.BaseURL == "" {
		o.BaseURL = DefaultBaseURL
	}
	base, err := netguard.CheckURL(strings.TrimRight(o.BaseURL, "/"))
	if err != nil {
		return nil, newError(ErrBadBaseURL, "The GitHub API URL is not usable: %v.", err)
	}
	if o.Guard == nil {
		return nil, errors.New("github: Options.Guard is required")
	}
	o.Timeout = orDefault(o.Timeout, DefaultTimeout)
	o.ConnectTimeout = orDefault(o.ConnectTimeout, DefaultConnectTimeout)
	if o.MaxAssetSize <= 0 {
		o.MaxAssetSize = MaxAssetSize
	}
	hc := o.Guard.Client(netguard.Timeouts{Connect: o.ConnectTimeout, Read: o.Timeout})
	return &Client{base: base, token: o.Token, http: hc, timeout: o.Timeout, maxSize: o.MaxAssetSize}, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// BaseURL is the API root the client talks to.
func (c *Client) BaseURL() string { return c.base.String() }

// Releases lists the repository's published releases, newest first
// (drafts left out). A repository without any is ErrNoReleases.
func (c *Client) Releases(ctx context.Context, repo Repo) ([]Release, error) {
	var all []Release
	err := c.getJSON(ctx, repo, "/repos/"+repo.Owner+"/"+repo.Name+"/releases?per_page=100", &all)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, r := range all {
		if !r.Draft && r.Tag != "" {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return nil, newError(ErrNoReleases, "%s has no releases yet: publish one with a %s asset.", repo, PackageExt)
	}
	return out, nil
}

// Release returns the release with the tag.
func (c *Client) Release(ctx context.Context, repo Repo, tag string) (*Release, error) {
	var r Release
	err := c.getJSON(ctx, repo, "/repos/"+repo.Owner+"/"+repo.Name+"/releases/tags/"+url.PathEscape(tag), &r)
	var ge *Error
	if errors.As(err, &ge) && ge.Kind == ErrNotFound {
		return nil, newError(ErrNotFound, "%s has no release %q.", repo, tag)
	}
	return &r, err
}

// Package finds the package asset named name in the release with the tag.
func (c *Client) Package(ctx context.Context, repo Repo, tag, name string) (Asset, error) {
	r, err := c.Release(ctx, repo, tag)
	if err != nil {
		return Asset{}, err
	}
	pkgs := r.Packages()
	if len(pkgs) == 0 {
		return Asset{}, newError(ErrNoPackage, "Release %s of %s has no %s asset.", tag, repo, PackageExt)
	}
	for _, a := range pkgs {
		if a.Name == name {
			return a, nil
		}
	}
	return Asset{}, newError(ErrNoPackage, "Release %s of %s has no package named %q.", tag, repo, name)
}

// Download reads an asset, refusing one over the size cap before or while
// downloading. With a token it asks the asset's API URL for the bytes (the
// way private repositories work); otherwise it fetches the browser URL.
func (c *Client) Download(ctx context.Context, a Asset) ([]byte, error) {
	if a.Size > c.maxSize {
		return nil, c.tooLarge(a.Name, a.Size)
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	link, accept := a.BrowserDownloadURL, ""
	if c.token != "" && a.URL != "" {
		link, accept = a.URL, "application/octet-stream"
	}
	resp, err := c.do(ctx, link, accept)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if err := c.checkStatus(resp, "asset "+a.Name); err != nil {
		return nil, err
	}
	if resp.ContentLength > c.maxSize {
		return nil, c.tooLarge(a.Name, resp.ContentLength)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, c.maxSize+1))
	if err != nil {
		return nil, c.transportError(err)
	}
	if int64(len(data)) > c.maxSize {
		return nil, c.tooLarge(a.Name, 0)
	}
	return data, nil
}

func (c *Client) tooLarge(name string, size int64) error {
	if size > 0 {
		return newError(ErrTooLarge, "The asset %s is %s; the limit is %s.", name, mib(size), mib(c.maxSize))
	}
	return newError(ErrTooLarge, "The asset %s is larger than the limit of %s.", name, mib(c.maxSize))
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// getJSON GETs an API path and decodes its JSON answer into v.
func (c *Client) getJSON(ctx context.Context, repo Repo, path string, v any) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	resp, err := c.do(ctx, c.base.String()+path, "application/vnd.github+json")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := c.checkStatus(resp, "repository "+repo.String()); err != nil {
		return err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxListBody))
	if err != nil {
		return c.transportError(err)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return newError(ErrGarbage, "%s did not answer like GitHub's API (%s): is the API URL right?", c.base.Host, excerpt(body))
	}
	return nil
}

// do sends a GET with the token, if any.
func (c *Client) do(ctx context.Context, link, accept string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, link, nil)
	if err != nil {
		return nil, newError(ErrGarbage, "GitHub gave a download link that is not a URL.")
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	req.Header.Set("User-Agent", "plugboard")
	if c.token != "" && sameHost(req.URL, c.base) {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, c.transportError(err)
	}
	return resp, nil
}

// sameHost reports whether u is on the API's host, the only one the token
// is sent to.
func sameHost(u, base *url.URL) bool {
	h := strings.ToLower(u.Host)
	b := strings.ToLower(base.Host)
	return h == b || (b == "api.github.com" && (h == "github.com" || h == "uploads.github.com"))
}

// checkStatus turns a non-2xx answer into a message.
func (c *Client) checkStatus(resp *http.Response, what string) error {
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		return nil
	case rateLimited(resp):
		return newError(ErrRateLimited, "GitHub's API rate limit is used up%s; try again later, or set a token in the GitHub settings for a higher limit.", resetIn(resp))
	case code == http.StatusNotFound:
		return newError(ErrNotFound, "GitHub has no %s (or it is private and the token cannot read it).", what)
	case code == http.StatusUnauthorized:
		return newError(ErrAuth, "GitHub refused the token (401): check or replace it in the GitHub settings.")
	default:
		return newError(ErrUnreachable, "GitHub answered %s for %s.", resp.Status, what)
	}
}

// rateLimited reports GitHub's rate-limit answer: 403 or 429 with
// X-RateLimit-Remaining: 0 (or a 429 at all).
func rateLimited(resp *http.Response) bool {
	if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusTooManyRequests {
		return false
	}
	return resp.StatusCode == http.StatusTooManyRequests || resp.Header.Get("X-RateLimit-Remaining") == "0"
}

// resetIn words X-RateLimit-Reset (unix seconds) when present.
func resetIn(resp *http.Response) string {
	var sec int64
	if _, err := fmt.Sscan(resp.Header.Get("X-RateLimit-Reset"), &sec); err != nil || sec <= 0 {
		return ""
	}
	return " until " + time.Unix(sec, 0).UTC().Format("15:04 UTC")
}

// transportError words a failure to get an answer.
func (c *Client) transportError(err error) error {
	var refused *netguard.RefusedError
	var ne net.Error
	switch {
	case errors.As(err, &refused):
		return newError(ErrUnreachable, "GitHub at %s cannot be reached: %v.", c.base.Host, refused)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return newError(ErrTimeout, "GitHub at %s did not answer within %s.", c.base.Host, c.timeout)
	default:
		return newError(ErrUnreachable, "GitHub at %s cannot be reached (%s).", c.base.Host, rootCause(err))
	}
}

// rootCause is the innermost error's text ("connection refused").
func rootCause(err error) string {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err.Error()
		}
		err = next
	}
}

// excerpt quotes the start of an unexpected answer.
func excerpt(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if s == "" {
		return "an empty answer"
	}
	if len(s) > 60 {
		s = s[:60] + "…"
	}
	return fmt.Sprintf("%q", s)
}
