package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/apispec"
)

// Health calls /health/check (no API key needed).
func (c *Client) Health(ctx context.Context) (*apispec.Health, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/health/check", nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var h apispec.Health
	if resp.StatusCode != http.StatusOK {
		return nil, &Error{Status: resp.StatusCode, Code: apispec.CodeInternal, Type: apispec.ErrInternal, Message: resp.Status}
	}
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		return nil, fmt.Errorf("decode health: %w", err)
	}
	return &h, nil
}

// UploadPackage uploads a package (field dify_pkg); it is stored, not installed.
// A package given as a *bytes.Reader (or anything else with a Len) is sent
// from where it lies, not copied into the request.
func (c *Client) UploadPackage(ctx context.Context, filename string, r io.Reader) (*apispec.UploadResult, error) {
	sized, ok := r.(interface{ Len() int })
	if !ok {
		data, err := io.ReadAll(r)
		if err != nil {
			return nil, fmt.Errorf("read package %s: %w", filename, err)
		}
		br := bytes.NewReader(data)
		r, sized = br, br
	}
	var frame bytes.Buffer
	mw := multipart.NewWriter(&frame)
	if _, err := mw.CreateFormFile("dify_pkg", filename); err != nil {
		return nil, err
	}
	head := frame.Len()
	if err := mw.Close(); err != nil {
		return nil, err
	}
	size := int64(frame.Len() + sized.Len())
	body := io.MultiReader(bytes.NewReader(frame.Bytes()[:head]), r, bytes.NewReader(frame.Bytes()[head:]))
	req, err := c.request(ctx, http.MethodPost, c.url("management/install/upload/package", nil), body, mw.FormDataContentType())
	if err != nil {
		return nil, err
	}
	req.ContentLength = size
	var res apispec.UploadResult
	return &res, c.call(req, &res)
}

// Install starts installing uploaded packages; metas may be nil (one empty
// meta per package is sent, as Dify expects).
func (c *Client) Install(ctx context.Context, ids []string, source string, metas []map[string]any) (*apispec.InstallResult, error) {
	if metas == nil {
		metas = make([]map[string]any, len(ids))
		for i := range metas {
			metas[i] = map[string]any{}
		}
	}
	var res apispec.InstallResult
	err := c.post(ctx, "management/install/identifiers",
		apispec.InstallRequest{PluginUniqueIdentifiers: ids, Source: source, Metas: metas}, &res)
	return &res, err
}

// Upgrade replaces an installed version with another uploaded one.
func (c *Client) Upgrade(ctx context.Context, req apispec.UpgradeRequest) (*apispec.InstallResult, error) {
	var res apispec.InstallResult
	return &res, c.post(ctx, "management/install/upgrade", req, &res)
}

// Task returns one install task.
func (c *Client) Task(ctx context.Context, id string) (*apispec.Task, error) {
	var t apispec.Task
	return &t, c.get(ctx, "management/install/tasks/"+url.PathEscape(id), nil, &t)
}

// Tasks lists install tasks, newest first.
func (c *Client) Tasks(ctx context.Context, page, size int) ([]apispec.Task, error) {
	var list []apispec.Task
	return list, c.get(ctx, "management/install/tasks", pageQuery(page, size), &list)
}

// DeleteTask removes a finished task.
func (c *Client) DeleteTask(ctx context.Context, id string) error {
	return c.post(ctx, "management/install/tasks/"+url.PathEscape(id)+"/delete", struct{}{}, nil)
}

// DeleteAllTasks removes every finished task.
func (c *Client) DeleteAllTasks(ctx context.Context) error {
	return c.post(ctx, "management/install/tasks/delete_all", struct{}{}, nil)
}

// WaitTask polls a task until it succeeds or fails. A failed task is
// returned along with an error naming each failed plugin and its message.
// Polls start 2 ms apart, since a binary plugin installs in milliseconds,
// and slow down by half each time to twice a second.
func (c *Client) WaitTask(ctx context.Context, id string) (*apispec.Task, error) {
	delay := 2 * time.Millisecond
	for {
		t, err := c.Task(ctx, id)
		if err != nil {
			return nil, err
		}
		switch t.Status {
		case apispec.TaskSuccess:
			return t, nil
		case apispec.TaskFailed:
			return t, taskError(t)
		}
		select {
		case <-ctx.Done():
			return t, ctx.Err()
		case <-time.After(delay):
		}
		delay = min(delay*3/2, 500*time.Millisecond)
	}
}

// taskError describes a failed task.
func taskError(t *apispec.Task) error {
	var msgs []string
	for _, p := range t.Plugins {
		if p.Status == apispec.TaskFailed {
			msgs = append(msgs, p.PluginUniqueIdentifier+": "+p.Message)
		}
	}
	return fmt.Errorf("install task %s failed: %s", t.ID, strings.Join(msgs, "; "))
}

// Uninstall removes an installation (by its installation id).
func (c *Client) Uninstall(ctx context.Context, installationID string) error {
	return c.post(ctx, "management/uninstall", apispec.UninstallRequest{PluginInstallationID: installationID}, nil)
}

// AddMCPServer starts a stdio MCP server and installs it as a tool
// provider; a server that does not start is refused with its error.
func (c *Client) AddMCPServer(ctx context.Context, req apispec.MCPServerRequest) (*apispec.Installation, error) {
	var inst apispec.Installation
	return &inst, c.post(ctx, "management/mcp/servers", req, &inst)
}

// List returns a page of installations.
func (c *Client) List(ctx context.Context, page, size int) (*apispec.Page[apispec.Installation], error) {
	var p apispec.Page[apispec.Installation]
	return &p, c.get(ctx, "management/list", pageQuery(page, size), &p)
}

// FetchManifest returns a stored package's manifest.
func (c *Client) FetchManifest(ctx context.Context, uniqueIdentifier string) (*plugboard.Manifest, error) {
	var m plugboard.Manifest
	q := url.Values{"plugin_unique_identifier": {uniqueIdentifier}}
	return &m, c.get(ctx, "management/fetch/manifest", q, &m)
}

// FetchReadme returns a stored package's README markdown, in language
// (e.g. zh_Hans) when the package has that translation; "" when it has none.
func (c *Client) FetchReadme(ctx context.Context, uniqueIdentifier, language string) (string, error) {
	var readme string
	q := url.Values{"plugin_unique_identifier": {uniqueIdentifier}}
	if language != "" {
		q.Set("language", language)
	}
	return readme, c.get(ctx, "management/fetch/readme", q, &readme)
}

// DecodeFromIdentifier returns a stored package's identifier and manifest.
func (c *Client) DecodeFromIdentifier(ctx context.Context, uniqueIdentifier string) (*apispec.UploadResult, error) {
	var res apispec.UploadResult
	q := url.Values{"plugin_unique_identifier": {uniqueIdentifier}}
	return &res, c.get(ctx, "management/decode/from_identifier", q, &res)
}

// Tools lists the tenant's tool providers.
func (c *Client) Tools(ctx context.Context, page, size int) ([]apispec.ToolProviderEntry, error) {
	var list []apispec.ToolProviderEntry
	return list, c.get(ctx, "management/tools", pageQuery(page, size), &list)
}

// Tool returns one tool provider of an installed plugin.
func (c *Client) Tool(ctx context.Context, pluginID, provider string) (*apispec.ToolProviderEntry, error) {
	var t apispec.ToolProviderEntry
	q := url.Values{"plugin_id": {pluginID}, "provider": {provider}}
	return &t, c.get(ctx, "management/tool", q, &t)
}

// Models lists the tenant's model providers, each with its predefined
// models (Dify's management/models; Dify's API asks for page 1 of 256).
func (c *Client) Models(ctx context.Context, page, size int) ([]apispec.ModelProviderEntry, error) {
	var list []apispec.ModelProviderEntry
	return list, c.get(ctx, "management/models", pageQuery(page, size), &list)
}

// Model returns the model provider of an installed plugin; provider is its
// bare name or "author/name/provider".
func (c *Client) Model(ctx context.Context, pluginID, provider string) (*apispec.ModelProviderEntry, error) {
	var p apispec.ModelProviderEntry
	q := url.Values{"plugin_id": {pluginID}, "provider": {provider}}
	return &p, c.get(ctx, "management/model", q, &p)
}

// PluginStatus returns an installed plugin's runtime state.
func (c *Client) PluginStatus(ctx context.Context, pluginID string) (*apispec.RuntimeStatus, error) {
	var st apispec.RuntimeStatus
	return &st, c.get(ctx, "management/plugin/status", url.Values{"plugin_id": {pluginID}}, &st)
}

// PluginSettings returns an installed plugin's settings (its invoke timeout).
func (c *Client) PluginSettings(ctx context.Context, pluginID string) (*apispec.PluginSettings, error) {
	var st apispec.PluginSettings
	return &st, c.get(ctx, "management/plugin/settings", url.Values{"plugin_id": {pluginID}}, &st)
}

// SetPluginSettings changes an installed plugin's settings.
func (c *Client) SetPluginSettings(ctx context.Context, st apispec.PluginSettings) (*apispec.PluginSettings, error) {
	var out apispec.PluginSettings
	return &out, c.post(ctx, "management/plugin/settings", st, &out)
}

// PluginLogs returns up to limit of a plugin's latest log entries, oldest first.
func (c *Client) PluginLogs(ctx context.Context, pluginID string, limit int) ([]apispec.LogEntry, error) {
	var list []apispec.LogEntry
	q := url.Values{"plugin_id": {pluginID}, "limit": {strconv.Itoa(limit)}}
	return list, c.get(ctx, "management/plugin/logs", q, &list)
}

// Asset returns a file from a stored package's _assets and its content type.
func (c *Client) Asset(ctx context.Context, uniqueIdentifier, name string) ([]byte, string, error) {
	q := url.Values{"plugin_unique_identifier": {uniqueIdentifier}, "name": {name}}
	req, err := c.request(ctx, http.MethodGet, c.url("management/asset", q), nil, "")
	if err != nil {
		return nil, "", err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, "", readError(resp)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxReply))
	return data, resp.Header.Get("Content-Type"), err
}

// readError reads an error reply's envelope.
func readError(resp *http.Response) error {
	var env apispec.Envelope
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err := json.Unmarshal(data, &env); err != nil {
		return &Error{Status: resp.StatusCode, Code: apispec.CodeInternal, Type: apispec.ErrInternal,
			Message: fmt.Sprintf("reply is not a JSON envelope: %.200q", data)}
	}
	return errorFrom(resp.StatusCode, &env)
}

// pageQuery encodes page and page_size.
func pageQuery(page, size int) url.Values {
	return url.Values{"page": {strconv.Itoa(page)}, "page_size": {strconv.Itoa(size)}}
}
