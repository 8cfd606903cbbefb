package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/innerapi"
)

// InvokeTool invokes a tool of an installed plugin (author/name) and returns
// its output stream. The caller must Close it; closing early cancels the tool.
func (c *Client) InvokeTool(ctx context.Context, pluginID string, data apispec.InvokeToolData, userID string) (*ToolStream, error) {
	req := apispec.InvokeRequest[apispec.InvokeToolData]{UserID: userID, Data: data}
	if c.direct != nil {
		return c.openDirect(ctx, pluginID, req)
	}
	return c.open(ctx, "dispatch/tool/invoke", pluginID, req)
}

// openDirect is open through the in-process daemon's Direct dispatch: the
// same call as over HTTP, with what its headers say.
func (c *Client) openDirect(ctx context.Context, pluginID string, req apispec.InvokeRequest[apispec.InvokeToolData]) (*ToolStream, error) {
	call := apispec.DirectCall{Tenant: c.tenant, PluginID: pluginID, CallBackEvents: ctx.Value(callBackEventsKey{}) != nil}
	if n, ok := ctx.Value(callDepthKey{}).(int); ok {
		call.CallDepth = strconv.Itoa(n)
	}
	frames, err := c.direct.InvokeTool(ctx, call, req)
	if err != nil {
		return nil, directError(err)
	}
	return newDirectStream(ctx, frames, c.maxBlob), nil
}

// InvokeAgentStrategy runs an agent-strategy plugin's strategy and returns
// its messages as a stream (text, json, log …, as a tool's). The request's
// user id and context (Dify's session context: the tools' credential ids)
// reach the plugin's request line.
func (c *Client) InvokeAgentStrategy(ctx context.Context, pluginID string, req apispec.InvokeRequest[apispec.InvokeAgentStrategyData]) (*ToolStream, error) {
	return c.open(ctx, "dispatch/agent_strategy/invoke", pluginID, req)
}

// ValidateCredentials asks the plugin whether creds are valid for provider.
// It returns false with the plugin's error (an *Error whose PluginError gives
// the plugin's message) when the plugin rejects them by raising an error,
// and false, nil when it answers {"result": false}.
func (c *Client) ValidateCredentials(ctx context.Context, pluginID, provider string, creds map[string]any) (bool, error) {
	var res struct {
		Result bool `json:"result"`
	}
	err := c.single(ctx, "dispatch/tool/validate_credentials", pluginID,
		apispec.InvokeRequest[apispec.ValidateCredentialsData]{Data: apispec.ValidateCredentialsData{
			Provider: provider, Credentials: creds}}, &res)
	return err == nil && res.Result, err
}

// RuntimeParameters asks the plugin for a tool's parameters at run time.
func (c *Client) RuntimeParameters(ctx context.Context, pluginID, provider, tool string, creds map[string]any) ([]plugboard.Parameter, error) {
	var res struct {
		Parameters []plugboard.Parameter `json:"parameters"`
	}
	err := c.single(ctx, "dispatch/tool/get_runtime_parameters", pluginID,
		apispec.InvokeRequest[apispec.RuntimeParametersData]{Data: apispec.RuntimeParametersData{
			Provider: provider, Tool: tool, Credentials: creds}}, &res)
	return res.Parameters, err
}

// single calls a dispatch route answered with one chunk and decodes it.
func (c *Client) single(ctx context.Context, route, pluginID string, body, out any) error {
	s, err := c.open(ctx, route, pluginID, body)
	if err != nil {
		return err
	}
	defer s.Close()
	raw, err := s.nextData()
	if err == io.EOF {
		return fmt.Errorf("%s: the plugin ended the stream without an answer", route)
	}
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("%s: decode the plugin's answer %.200q: %w", route, raw, err)
	}
	return nil
}

// open POSTs a dispatch request and returns the SSE stream of its reply.
func (c *Client) open(ctx context.Context, route, pluginID string, body any) (*ToolStream, error) {
	data, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	req, err := c.request(ctx, http.MethodPost, c.url(route, nil), bytes.NewReader(data), "application/json")
	if err != nil {
		return nil, err
	}
	req.Header.Set("X-Plugin-ID", pluginID)
	if n, ok := ctx.Value(callDepthKey{}).(int); ok {
		req.Header.Set(innerapi.HeaderCallDepth, strconv.Itoa(n))
	}
	if ctx.Value(callBackEventsKey{}) != nil {
		req.Header.Set(apispec.HeaderEvents, apispec.EventsCallBack)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		return nil, readError(resp)
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "text/event-stream" {
		defer resp.Body.Close()
		return nil, readError(resp)
	}
	return newToolStream(resp.Body, c.maxBlob), nil
}

type callDepthKey struct{}

// WithCallDepth returns ctx making every dispatch call (InvokeTool, the
// model calls …) send the call depth n (header X-Plugboard-Call-Depth):
// the app uses it when it invokes a tool for a plugin's call back that came
// at depth n, so that the tool's own calls back come at n+1 and the daemon
// can bound how deep they nest.
func WithCallDepth(ctx context.Context, n int) context.Context {
	return context.WithValue(ctx, callDepthKey{}, n)
}

type callBackEventsKey struct{}

// WithCallBackEvents returns ctx making InvokeTool's stream report each
// call back the plugin makes, as a Message of Type MessageCallBack among
// its messages (type, time, outcome; never the payload).
func WithCallBackEvents(ctx context.Context) context.Context {
	return context.WithValue(ctx, callBackEventsKey{}, true)
}
