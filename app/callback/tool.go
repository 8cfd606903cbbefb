package callback

import (
	"context"
	"strconv"
	"strings"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/app/invoke"
	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/daemon/protocol"
	"github.com/plugboard/plugboard/store"
)

// toolRequest is Dify's RequestInvokeTool.
type toolRequest struct {
	base
	ToolType       string         `json:"tool_type"`
	Provider       string         `json:"provider"`
	Tool           string         `json:"tool"`
	ToolParameters map[string]any `json:"tool_parameters"`
	CredentialID   string         `json:"credential_id"`
	CredentialType string         `json:"credential_type"`
}

// toolChunk is Dify's ToolResponseChunk: one tool message.
type toolChunk struct {
	Type    string         `json:"type"`
	Message any            `json:"message"`
	Meta    map[string]any `json:"meta"`
}

// tool invokes another installed tool through app/invoke (with its stored
// credential: the one named, else the provider's default), as a run of
// the user the calling plugin was invoked for, one call back deeper; its
// messages stream back as Dify's ToolResponseChunks.
func (s *Service) tool(ctx context.Context, c *Call, emit func(any) error) (string, error) {
	var req toolRequest
	if err := decode(c, &req); err != nil {
		return "", err
	}
	if err := required("provider", req.Provider, "tool", req.Tool); err != nil {
		return "", err
	}
	target := req.Provider + " " + req.Tool
	if req.ToolType != "" && req.ToolType != "builtin" && req.ToolType != "plugin" {
		return target, plugboard.Errorf(plugboard.EUNAVAILABLE, "Invoking a %s tool is not available in Plugboard: only installed plugins' tools (builtin).", req.ToolType)
	}
	pluginID, provider, err := s.toolProvider(ctx, req.Provider)
	if err != nil {
		return target, err
	}
	ir := invoke.Request{Caller: s.caller(ctx, req.UserID, s.base(c.BaseURL)), PluginID: pluginID, Provider: provider, Tool: req.Tool,
		Params: req.ToolParameters, CallDepth: c.Depth}
	if req.CredentialID != "" {
		if ir.CredentialID, err = strconv.ParseInt(req.CredentialID, 10, 64); err != nil {
			return target, plugboard.Errorf(plugboard.EINVALID, "%s has no credential %q.", provider, req.CredentialID)
		}
	}
	var emitErr error
	run, err := s.cfg.Invoke.Call(ctx, ir, func(m *client.Message) {
		if emitErr == nil && m.Type != client.MessageCallBack { // the nested tool's own calls back stay in its run
			emitErr = emit(chunkOf(m))
		}
	})
	switch {
	case err != nil:
		return target, err
	case emitErr != nil:
		return target, emitErr
	case run.Status == store.RunFailed:
		return target, plugboard.Errorf(plugboard.EINVALID, "%s", run.Error)
	case run.Status == store.RunCancelled:
		return target, plugboard.Errorf(plugboard.EUNAVAILABLE, "The tool's run was cancelled.")
	}
	return target, nil
}

// toolProvider reads Dify's tool provider id (author/plugin/provider); a
// bare provider name is looked up among the installed tools.
func (s *Service) toolProvider(ctx context.Context, id string) (pluginID, provider string, err error) {
	if parts := strings.Split(id, "/"); len(parts) == 3 && parts[0] != "" && parts[1] != "" && parts[2] != "" {
		return parts[0] + "/" + parts[1], parts[2], nil
	}
	if strings.Contains(id, "/") {
		return "", "", plugboard.Errorf(plugboard.EINVALID, "The tool provider %q should be named author/plugin/provider.", id)
	}
	tools, err := s.cfg.Daemon.Tools(ctx, 1, 256)
	if err != nil {
		return "", "", err
	}
	for _, t := range tools {
		if t.Provider == id {
			return t.PluginID, t.Provider, nil
		}
	}
	return "", "", plugboard.Errorf(plugboard.ENOTFOUND, "No installed plugin has a tool provider %q.", id)
}

// caller is the user a nested tool runs for: the calling plugin's user,
// when it is one of the app's, else the user id as the plugin gave it.
func (s *Service) caller(ctx context.Context, userID, baseURL string) invoke.Caller {
	c := invoke.Caller{Username: userID, BaseURL: baseURL}
	if userID == "" {
		c.Username = "plugin"
	} else if u, err := s.cfg.Store.FindUserByUsername(ctx, userID); err == nil {
		c.UserID = u.ID
	}
	return c
}

// chunkOf is a tool message as Dify's ToolResponseChunk.
func chunkOf(m *client.Message) toolChunk {
	ch := toolChunk{Type: m.Type, Meta: map[string]any{}}
	switch m.Type {
	case protocol.MessageJSON:
		ch.Message = map[string]any{"json_object": m.JSON}
	case protocol.MessageBlob:
		ch.Message = protocol.BlobMessage{Blob: m.Blob}
		ch.Meta = map[string]any{"mime_type": m.MIME, "filename": m.Filename}
	case protocol.MessageVariable:
		ch.Message = m.Variable
	case protocol.MessageLog:
		ch.Message = m.Log
	default: // text, link, image, image_link, binary_link
		ch.Message = map[string]string{"text": m.Text}
	}
	return ch
}
