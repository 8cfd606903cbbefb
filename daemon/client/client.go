// Package client is the Go client of the daemon's HTTP API: typed calls for
// every management route, and tool invocations returned as a stream of typed
// messages. The admin app reaches the daemon only through it.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/apispec"
)

// Defaults.
const (
	DefaultTenant  = "default"
	DefaultMaxBlob = 32 << 20 // largest reassembled blob
	maxReply       = 64 << 20 // largest JSON reply read
)

// Client calls one daemon for one tenant.
type Client struct {
	base    string
	key     string
	tenant  string
	hc      *http.Client
	maxBlob int64
	// direct, when set, takes the tool invocations (InProcess).
	direct apispec.DirectDispatcher
}

// Option configures a Client.
type Option func(*Client)

// WithTenant sets the tenant id used in paths (DefaultTenant otherwise).
func WithTenant(tenant string) Option { return func(c *Client) { c.tenant = tenant } }

// WithHTTPClient sets the HTTP client (a keep-alive client with room for many
// idle connections otherwise). Do not give it a Timeout: streams may be long.
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.hc = hc } }

// WithMaxBlob caps the size of a blob reassembled from blob_chunk messages.
func WithMaxBlob(n int64) Option { return func(c *Client) { c.maxBlob = n } }

// New returns a client of the daemon at baseURL (e.g. http://127.0.0.1:5002).
func New(baseURL, apiKey string, opts ...Option) *Client {
	c := &Client{base: strings.TrimRight(baseURL, "/"), key: apiKey, tenant: DefaultTenant, maxBlob: DefaultMaxBlob}
	for _, o := range opts {
		o(c)
	}
	if c.hc == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConns, t.MaxIdleConnsPerHost = 512, 256
		c.hc = &http.Client{Transport: t}
	}
	return c
}

// Error is an error reply of the daemon: an HTTP status that is not 200, or
// an error frame (code -500) in a stream whose status was 200.
type Error struct {
	Status  int    // HTTP status
	Code    int    // envelope code, e.g. -404
	Type    string // error_type, e.g. PluginNotFoundError
	Message string // the message; for PluginInvokeError the plugin's error JSON
}

func (e *Error) Error() string {
	if e.Type == apispec.ErrInvoke {
		if t, m := e.PluginError(); m != "" {
			return fmt.Sprintf("%s: %s: %s", e.Type, t, m)
		}
	}
	return fmt.Sprintf("%s: %s", e.Type, e.Message)
}

// PluginError returns the error type and message a plugin reported, when the
// error is a PluginInvokeError whose message is the plugin's error JSON.
func (e *Error) PluginError() (errorType, message string) {
	var pe struct {
		ErrorType string `json:"error_type"`
		Message   string `json:"message"`
	}
	if e.Type != apispec.ErrInvoke || json.Unmarshal([]byte(e.Message), &pe) != nil {
		return "", ""
	}
	return pe.ErrorType, pe.Message
}

// Unwrap exposes the error as an *plugboard.Error, so plugboard.ErrorCode works on it.
func (e *Error) Unwrap() error {
	msg := e.Message
	if _, m := e.PluginError(); m != "" {
		msg = m
	}
	return &plugboard.Error{Code: codeOf(e), Message: msg}
}

// codeOf maps a daemon error to an error code.
func codeOf(e *Error) string {
	switch e.Status {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		return plugboard.EINVALID
	case http.StatusUnauthorized:
		return plugboard.EUNAUTHORIZED
	case http.StatusForbidden:
		return plugboard.EFORBIDDEN
	case http.StatusNotFound:
		return plugboard.ENOTFOUND
	case http.StatusConflict:
		return plugboard.ECONFLICT
	case http.StatusServiceUnavailable:
		return plugboard.EUNAVAILABLE
	case http.StatusGatewayTimeout:
		return plugboard.ETIMEOUT
	}
	return plugboard.EINTERNAL
}

// errorFrom builds an *Error from an envelope.
func errorFrom(status int, env *apispec.Envelope) *Error {
	e := &Error{Status: status, Code: env.Code, Message: env.Message}
	var body apispec.ErrorBody
	if json.Unmarshal([]byte(env.Message), &body) == nil && body.ErrorType != "" {
		e.Type, e.Message = body.ErrorType, body.Message
	}
	return e
}

// url builds the URL of a tenant route.
func (c *Client) url(path string, q url.Values) string {
	u := c.base + "/plugin/" + url.PathEscape(c.tenant) + "/" + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

// request builds an authenticated request.
func (c *Client) request(ctx context.Context, method, u string, body io.Reader, ctype string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("X-Api-Key", c.key)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	return req, nil
}

// call sends a request and decodes the envelope's data into out (when not nil).
func (c *Client) call(req *http.Request, out any) error {
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxReply))
	if err != nil {
		return fmt.Errorf("read reply of %s %s: %w", req.Method, req.URL.Path, err)
	}
	var env apispec.Envelope
	if err := json.Unmarshal(data, &env); err != nil {
		return &Error{Status: resp.StatusCode, Code: apispec.CodeInternal, Type: apispec.ErrInternal,
			Message: fmt.Sprintf("reply is not a JSON envelope: %.200q", data)}
	}
	if resp.StatusCode != http.StatusOK || env.Code != apispec.CodeOK {
		return errorFrom(resp.StatusCode, &env)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(env.Data, out); err != nil {
		return fmt.Errorf("decode reply of %s %s: %w", req.Method, req.URL.Path, err)
	}
	return nil
}

// get calls a GET route.
func (c *Client) get(ctx context.Context, path string, q url.Values, out any) error {
	req, err := c.request(ctx, http.MethodGet, c.url(path, q), nil, "")
	if err != nil {
		return err
	}
	return c.call(req, out)
}

// post calls a POST route with a JSON body.
func (c *Client) post(ctx context.Context, path string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := c.request(ctx, http.MethodPost, c.url(path, nil), bytes.NewReader(body), "application/json")
	if err != nil {
		return err
	}
	return c.call(req, out)
}
