package marketplace

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/app/netguard"
	"github.com/plugboard/plugboard/daemon/pkgfmt"
)

// maxAnswer bounds a JSON answer of the marketplace.
const maxAnswer = 4 << 20

// Client calls a marketplace at a base URL. Its errors say which
// marketplace failed and how; they carry plugboard.EUNAVAILABLE when it could not
// be reached or answered nonsense, plugboard.ENOTFOUND for an unknown plugin or
// version, and plugboard.EINVALID for a package that is not what was asked for.
type Client struct {
	base *url.URL
	hc   *http.Client
}

// NewClient returns a client of the marketplace at base (an http or https
// URL), sending requests through hc — normally a netguard client, whose
// timeouts bound slow answers.
func NewClient(base string, hc *http.Client) (*Client, error) {
	u, err := netguard.CheckURL(base)
	if err != nil {
		return nil, fmt.Errorf("marketplace URL: %w", err)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	return &Client{base: u, hc: hc}, nil
}

// BaseURL is the marketplace's base URL.
func (c *Client) BaseURL() string { return c.base.String() }

// Search lists the plugins matching q, each with its versions when the
// marketplace gives them.
func (c *Client) Search(ctx context.Context, q Query) ([]Plugin, error) {
	v := url.Values{}
	for k, s := range map[string]string{"q": q.Q, "category": q.Category, "tag": q.Tag} {
		if s != "" {
			v.Set(k, s)
		}
	}
	var d pluginsData
	err := c.callJSON(ctx, http.MethodGet, "/api/v1/plugins", v, nil, &d)
	return d.Plugins, err
}

// Batch returns the latest version of each plugin id the marketplace
// knows; unknown ids are left out.
func (c *Client) Batch(ctx context.Context, pluginIDs []string) ([]Plugin, error) {
	var d pluginsData
	err := c.callJSON(ctx, http.MethodPost, "/api/v1/plugins/batch", nil, batchRequest{PluginIDs: pluginIDs}, &d)
	return d.Plugins, err
}

// Versions returns a plugin's versions, newest first.
func (c *Client) Versions(ctx context.Context, pluginID string) ([]Version, error) {
	author, name, err := splitID(pluginID)
	if err != nil {
		return nil, err
	}
	var d versionsData
	err = c.callJSON(ctx, http.MethodGet, "/api/v1/plugins/"+url.PathEscape(author)+"/"+url.PathEscape(name)+"/versions", nil, nil, &d)
	return d.Versions, err
}

// Download fetches one version of a plugin (at most MaxPackage bytes),
// decodes it and checks that its manifest is the plugin and version asked
// for; a package claiming another name is refused.
func (c *Client) Download(ctx context.Context, pluginID, version string) (*pkgfmt.Package, error) {
	author, name, err := splitID(pluginID)
	if err != nil {
		return nil, err
	}
	p := "/api/v1/plugins/" + url.PathEscape(author) + "/" + url.PathEscape(name) + "/" + url.PathEscape(version) + "/download"
	resp, err := c.do(ctx, http.MethodGet, p, nil, nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxPackage+1))
	if err != nil {
		return nil, c.unavailable("reading %s %s failed: %v", pluginID, version, err)
	}
	if len(data) > MaxPackage {
		return nil, plugboard.Errorf(plugboard.EINVALID, "The marketplace's package of %s %s is larger than the limit of 15 MiB.", pluginID, version)
	}
	pkg, err := pkgfmt.Decode(data, pkgfmt.DefaultLimits())
	if err != nil {
		return nil, plugboard.Errorf(plugboard.EINVALID, "The marketplace's package of %s %s is not a valid plugin package: %s", pluginID, version, plugboard.ErrorMessage(err))
	}
	if got := pkg.Manifest.PluginID(); got != pluginID || pkg.Manifest.Version != version {
		return nil, plugboard.Errorf(plugboard.EINVALID, "The marketplace sent %s %s when asked for %s %s; refused.", got, pkg.Manifest.Version, pluginID, version)
	}
	return pkg, nil
}

// maxIcon bounds an icon's size.
const maxIcon = 1 << 20

// Icon fetches the icon of one version of a plugin and its content type,
// which is always an image type.
func (c *Client) Icon(ctx context.Context, pluginID, version string) ([]byte, string, error) {
	author, name, err := splitID(pluginID)
	if err != nil {
		return nil, "", err
	}
	p := "/api/v1/plugins/" + url.PathEscape(author) + "/" + url.PathEscape(name) + "/" + url.PathEscape(version) + "/icon"
	resp, err := c.do(ctx, http.MethodGet, p, nil, nil)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	ctype := resp.Header.Get("Content-Type")
	if !strings.HasPrefix(ctype, "image/") {
		return nil, "", c.unavailable("the icon of %s %s is %q, not an image", pluginID, version, ctype)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxIcon+1))
	if err != nil || len(data) > maxIcon {
		return nil, "", c.unavailable("the icon of %s %s is unreadable or over 1 MiB", pluginID, version)
	}
	return data, ctype, nil
}

// splitID splits author/name.
func splitID(id string) (string, string, error) {
	a, n, ok := strings.Cut(id, "/")
	if !ok || a == "" || n == "" || strings.Contains(n, "/") {
		return "", "", plugboard.Errorf(plugboard.EINVALID, "%q is not a plugin id (want author/name).", id)
	}
	return a, n, nil
}

// callJSON sends a request and decodes the envelope's data into out.
func (c *Client) callJSON(ctx context.Context, method, p string, q url.Values, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	resp, err := c.do(ctx, method, p, q, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return c.unavailable("reading the answer failed: %v", err)
	}
	if len(raw) > maxAnswer {
		return c.unavailable("its answer is larger than %d MiB", maxAnswer>>20)
	}
	env := envelope[json.RawMessage]{}
	if err := json.Unmarshal(raw, &env); err != nil || env.Code != 0 || len(env.Data) == 0 {
		return c.unavailable("it answered something that is not a marketplace answer (%s)", snippet(raw))
	}
	if err := json.Unmarshal(env.Data, out); err != nil {
		return c.unavailable("its answer has unexpected data: %v", err)
	}
	return nil
}

// do sends a request and returns a 200 answer; anything else is an error
// naming the marketplace and what went wrong.
func (c *Client) do(ctx context.Context, method, p string, q url.Values, body io.Reader) (*http.Response, error) {
	u := *c.base
	u.Path += p
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, c.unavailable("%s", reason(err))
	}
	if resp.StatusCode == http.StatusOK {
		return resp, nil
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	var env envelope[json.RawMessage]
	msg := snippet(raw)
	if json.Unmarshal(raw, &env) == nil && env.Msg != "" {
		msg = env.Msg
	}
	if resp.StatusCode == http.StatusNotFound {
		return nil, plugboard.Errorf(plugboard.ENOTFOUND, "The marketplace at %s has no such plugin or version (%s).", c.base.Host, msg)
	}
	return nil, c.unavailable("it answered %s (%s)", resp.Status, msg)
}

// reason words a transport error: a timeout, a refusal of the SSRF guard
// or an unreachable host.
func reason(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Timeout() {
		return "it did not answer in time"
	}
	var ref *netguard.RefusedError
	if errors.As(err, &ref) {
		return ref.Error()
	}
	if errors.As(err, &ue) {
		return "it can't be reached: " + ue.Err.Error()
	}
	return err.Error()
}

func (c *Client) unavailable(format string, args ...any) error {
	return plugboard.Errorf(plugboard.EUNAVAILABLE, "The marketplace at %s failed: %s.", c.base.Host, fmt.Sprintf(format, args...))
}

// snippet is the start of a body, for an error message.
func snippet(raw []byte) string {
	s := strings.Join(strings.Fields(string(raw)), " ")
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	if s == "" {
		return "an empty body"
	}
	return fmt.Sprintf("%q", s)
}
