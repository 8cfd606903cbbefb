package api

import (
	"fmt"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/protocol"
)

// modelRoute is one model dispatch route: its path under dispatch/, the
// action it sends, the model type it is for ("" when the body names any),
// what its body must hold beyond provider and model, how its chunks are
// checked and what answers a session the plugin ends without a chunk.
type modelRoute struct {
	path      string
	action    string
	modelType string
	noModel   bool // validate_provider_credentials names no model (and no type)
	require   func(d *apispec.ModelData) error
	chunk     chunkCheck
	ifEmpty   []byte
}

// modelRoutes are Dify's model dispatch routes (D:internal/server/http_server.gen.go).
// The answers for an empty session are what Dify's API reads from one
// (api/core/plugin/impl/model.py): false, no schema, zero tokens, no voices;
// the routes whose reader raises on an empty stream get none.
var modelRoutes = []modelRoute{
	{path: "llm/invoke", action: protocol.ActionInvokeLLM, modelType: plugboard.ModelLLM,
		require: requireLLM, chunk: checkLLMChunk},
	{path: "llm/num_tokens", action: protocol.ActionGetLLMNumTokens, modelType: plugboard.ModelLLM,
		require: requirePrompt, chunk: checkShape[protocol.NumTokens]("num_tokens"), ifEmpty: []byte(`{"num_tokens":0}`)},
	{path: "text_embedding/invoke", action: protocol.ActionInvokeTextEmbedding, modelType: plugboard.ModelTextEmbedding,
		require: requireEmbedding, chunk: checkShape[protocol.TextEmbeddingResult]("model", "embeddings", "usage")},
	{path: "text_embedding/num_tokens", action: protocol.ActionGetTextEmbeddingNumTokens, modelType: plugboard.ModelTextEmbedding,
		require: requireTexts, chunk: checkShape[protocol.TextEmbeddingNumTokens]("num_tokens"), ifEmpty: []byte(`{"num_tokens":[]}`)},
	{path: "rerank/invoke", action: protocol.ActionInvokeRerank, modelType: plugboard.ModelRerank,
		require: requireRerank, chunk: checkRerank},
	{path: "tts/invoke", action: protocol.ActionInvokeTTS, modelType: plugboard.ModelTTS,
		require: requireTTS, chunk: checkTTSChunk},
	{path: "tts/model/voices", action: protocol.ActionGetTTSModelVoices, modelType: plugboard.ModelTTS,
		chunk: checkShape[protocol.TTSVoices]("voices"), ifEmpty: []byte(`{"voices":[]}`)},
	{path: "speech2text/invoke", action: protocol.ActionInvokeSpeech2Text, modelType: plugboard.ModelSpeech2Text,
		require: requireAudio, chunk: checkShape[protocol.TextResult]("result")},
	{path: "moderation/invoke", action: protocol.ActionInvokeModeration, modelType: plugboard.ModelModeration,
		require: requireText, chunk: checkShape[protocol.ModerationResult]("result")},
	{path: "model/validate_provider_credentials", action: protocol.ActionValidateProviderCredentials, noModel: true,
		chunk: checkShape[protocol.CredentialsResult]("result"), ifEmpty: credentialsNotValidated},
	{path: "model/validate_model_credentials", action: protocol.ActionValidateModelCredentials,
		chunk: checkShape[protocol.CredentialsResult]("result"), ifEmpty: credentialsNotValidated},
	{path: "model/schema", action: protocol.ActionGetAIModelSchemas,
		chunk: checkShape[protocol.ModelSchema]("model_schema"), ifEmpty: []byte(`{"model_schema":null}`)},
}

// registerModelRoutes adds the model dispatch routes to g.
func (s *server) registerModelRoutes(g *echo.Group, mw ...echo.MiddlewareFunc) {
	for _, r := range modelRoutes {
		g.POST("/dispatch/"+r.path, s.modelHandler(r), mw...)
	}
}

// modelHandler decodes and checks a model route's body, then dispatches it.
func (s *server) modelHandler(r modelRoute) echo.HandlerFunc {
	return func(c echo.Context) error {
		var req apispec.InvokeRequest[apispec.ModelData]
		if err := bindJSON(c, &req); err != nil {
			return err
		}
		d := &req.Data
		if err := r.check(d); err != nil {
			return err
		}
		if r.action == protocol.ActionInvokeTTS && d.TenantID == "" {
			d.TenantID = c.Param("tenant_id") // Dify's API sends it; the SDK requires it
		}
		mr := d.ModelRequest
		rd := &protocol.RequestData{UserID: req.UserID, Type: protocol.TypeModel, Action: r.action,
			Provider: d.Provider, Credentials: d.Credentials, ModelRequest: &mr}
		pluginID := c.Request().Header.Get(HeaderPluginID)
		return s.dispatchWith(c, rd, answer{ifEmpty: r.ifEmpty, check: func(chunk []byte) ([]byte, error) {
			out, err := r.chunk(chunk)
			if err != nil {
				return nil, plugboard.Errorf(plugboard.EINTERNAL, "plugin %s answered %s with a chunk that is not valid: %v", pluginID, r.path, err)
			}
			return out, nil
		}})
	}
}

// check validates what every model route needs (provider, model, model
// type), then the route's own fields. An absent model type is the route's.
func (r modelRoute) check(d *apispec.ModelData) error {
	if err := requireFields(d.Provider, "data.provider"); err != nil {
		return err
	}
	if d.CredentialType != "" && !protocol.ValidCredentialType(d.CredentialType) {
		return plugboard.Errorf(plugboard.EINVALID, "data.credential_type must be %s, %s or %s, not %q",
			protocol.CredentialAPIKey, protocol.CredentialOAuth2, protocol.CredentialUnauthorized, d.CredentialType)
	}
	if r.noModel {
		d.ModelType, d.Model = "", ""
		return nil
	}
	if err := requireFields(d.Model, "data.model"); err != nil {
		return err
	}
	switch {
	case d.ModelType == "" && r.modelType != "":
		d.ModelType = r.modelType
	case d.ModelType == "":
		return plugboard.Errorf(plugboard.EINVALID, "data.model_type is required (one of %v)", plugboard.ModelTypes)
	case r.modelType != "" && d.ModelType != r.modelType:
		return plugboard.Errorf(plugboard.EINVALID, "data.model_type must be %s for %s, not %q", r.modelType, r.path, d.ModelType)
	case !slices.Contains(plugboard.ModelTypes, d.ModelType):
		return plugboard.Errorf(plugboard.EINVALID, "data.model_type must be one of %v, not %q", plugboard.ModelTypes, d.ModelType)
	}
	if r.require != nil {
		return r.require(d)
	}
	return nil
}

// requireLLM checks an llm/invoke body: its messages and tools, its tool choice.
func requireLLM(d *apispec.ModelData) error {
	if err := requirePrompt(d); err != nil {
		return err
	}
	if tc := d.ToolChoice; tc != nil {
		switch tc.Mode {
		case protocol.ToolChoiceAuto, protocol.ToolChoiceNone, protocol.ToolChoiceRequired:
		case protocol.ToolChoiceTool:
			if tc.Name == "" {
				return plugboard.Errorf(plugboard.EINVALID, "data.tool_choice.name is required when its mode is tool")
			}
		default:
			return plugboard.Errorf(plugboard.EINVALID, "data.tool_choice.mode must be auto, none, required or tool, not %q", tc.Mode)
		}
	}
	return nil
}

// requirePrompt checks the prompt messages and tools of an LLM request.
func requirePrompt(d *apispec.ModelData) error {
	for i, m := range d.PromptMessages {
		if err := checkMessage(&m); err != nil {
			return plugboard.Errorf(plugboard.EINVALID, "data.prompt_messages[%d]: %v", i, err)
		}
	}
	for i, t := range d.Tools {
		if t.Name == "" {
			return plugboard.Errorf(plugboard.EINVALID, "data.tools[%d].name is required", i)
		}
	}
	return nil
}

// checkMessage validates one prompt message as Dify's daemon and SDK do.
func checkMessage(m *protocol.PromptMessage) error {
	switch m.Role {
	case protocol.RoleSystem, protocol.RoleUser, protocol.RoleAssistant:
	case protocol.RoleTool:
		if m.ToolCallID == "" {
			return fmt.Errorf("a tool message needs the tool_call_id it answers")
		}
	case "":
		return fmt.Errorf("role is required")
	default:
		return fmt.Errorf("role must be system, user, assistant or tool, not %q", m.Role)
	}
	for j, p := range m.Content.Parts {
		switch p.Type {
		case protocol.PartText, protocol.PartImage, protocol.PartAudio, protocol.PartVideo, protocol.PartDocument:
		default:
			return fmt.Errorf("content[%d].type must be text, image, audio, video or document, not %q", j, p.Type)
		}
		if p.Detail != "" && p.Detail != "low" && p.Detail != "high" {
			return fmt.Errorf("content[%d].detail must be low or high, not %q", j, p.Detail)
		}
	}
	return nil
}

func requireTexts(d *apispec.ModelData) error {
	if d.Texts == nil {
		return plugboard.Errorf(plugboard.EINVALID, "data.texts (a list of strings) is required")
	}
	return nil
}

func requireEmbedding(d *apispec.ModelData) error {
	if err := requireTexts(d); err != nil {
		return err
	}
	if t := d.InputType; t != "" && t != protocol.InputDocument && t != protocol.InputQuery {
		return plugboard.Errorf(plugboard.EINVALID, "data.input_type must be document or query, not %q", t)
	}
	return nil
}

func requireRerank(d *apispec.ModelData) error {
	if d.Docs == nil {
		return plugboard.Errorf(plugboard.EINVALID, "data.docs (a list of strings) is required")
	}
	return requireFields(d.Query, "data.query")
}

func requireTTS(d *apispec.ModelData) error {
	return requireFields(d.ContentText, "data.content_text", d.Voice, "data.voice")
}

func requireAudio(d *apispec.ModelData) error {
	if err := requireFields(d.File, "data.file"); err != nil {
		return err
	}
	if !isHex(d.File) {
		return plugboard.Errorf(plugboard.EINVALID, "data.file must be the audio's bytes in hex (an even number of hex digits)")
	}
	return nil
}

func requireText(d *apispec.ModelData) error {
	return requireFields(d.Text, "data.text")
}
