package callback

import (
	"context"
	"encoding/hex"
	"strings"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/app/models"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/protocol"
	"github.com/plugboard/plugboard/store/secret"
)

// modelBase is what every model call names: the provider as Dify's model
// selectors write it (author/plugin/provider) and the model.
type modelBase struct {
	base
	Provider  string `json:"provider"`
	Model     string `json:"model"`
	ModelType string `json:"model_type"`
}

func (m *modelBase) target() string { return m.Provider + " " + m.Model }

// llmRequest is Dify's RequestInvokeLLM (and its structured-output form).
type llmRequest struct {
	modelBase
	Mode             string                       `json:"mode"`
	CompletionParams map[string]any               `json:"completion_params"`
	PromptMessages   []protocol.PromptMessage     `json:"prompt_messages"`
	Tools            []protocol.PromptMessageTool `json:"tools"`
	Stop             []string                     `json:"stop"`
	Stream           *bool                        `json:"stream"`
	// StructuredOutputSchema is llm/structured-output's JSON schema.
	StructuredOutputSchema map[string]any `json:"structured_output_schema"`
}

// resolve opens the credentials of the model a call names, through
// app/models (the one place model credentials are opened).
func (s *Service) resolve(ctx context.Context, m *modelBase, modelType string) (*models.Resolved, error) {
	if err := required("provider", m.Provider, "model", m.Model); err != nil {
		return nil, err
	}
	parts := strings.Split(m.Provider, "/")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return nil, plugboard.Errorf(plugboard.EINVALID, "The model provider %q should be named author/plugin/provider, as Dify's model selector names it.", m.Provider)
	}
	return s.cfg.Models.Credentials(ctx, parts[0]+"/"+parts[1], parts[2], modelType, m.Model)
}

// modelData is the daemon's request for a resolved model.
func modelData(r *models.Resolved, mr protocol.ModelRequest) apispec.ModelData {
	mr.ModelType, mr.Model = r.ModelType, r.Model
	return apispec.ModelData{Provider: r.Provider, Credentials: r.Credentials, ModelRequest: mr}
}

// redacted is err with the model's secrets hidden in its message, its code
// kept.
func redacted(err error, secrets []string) error {
	return plugboard.Errorf(plugboard.ErrorCode(err), "%s", secret.NewRedactor(secrets...).String(plugboard.ErrorMessage(err)))
}

// llm streams an LLM's answer, chunk by chunk, as Dify's LLMResultChunks.
func (s *Service) llm(ctx context.Context, c *Call, emit func(any) error) (string, error) {
	var req llmRequest
	if err := decode(c, &req); err != nil {
		return "", err
	}
	r, err := s.resolve(ctx, &req.modelBase, plugboard.ModelLLM)
	if err != nil {
		return req.target(), err
	}
	return req.target(), s.streamLLM(ctx, r, &req, req.PromptMessages, func(ch *protocol.LLMResultChunk) error { return emit(ch) })
}

// streamLLM invokes the model with msgs (always streaming, as Dify does)
// through app/models' one LLM turn, and hands each chunk to each.
func (s *Service) streamLLM(ctx context.Context, r *models.Resolved, req *llmRequest, msgs []protocol.PromptMessage, each func(*protocol.LLMResultChunk) error) error {
	_, err := s.cfg.Models.Turn(ctx, req.UserID, models.TurnRequest{Messages: msgs, Tools: req.Tools, Stop: req.Stop,
		Parameters: req.CompletionParams, Resolved: r, OnChunk: each}, func(string) error { return nil })
	return err
}

// textEmbedding embeds texts (Dify's TextEmbeddingResult).
func (s *Service) textEmbedding(ctx context.Context, c *Call, emit func(any) error) (string, error) {
	var req struct {
		modelBase
		Texts     []string `json:"texts"`
		InputType string   `json:"input_type"`
	}
	if err := decode(c, &req); err != nil {
		return "", err
	}
	r, err := s.resolve(ctx, &req.modelBase, plugboard.ModelTextEmbedding)
	if err != nil {
		return req.target(), err
	}
	if len(req.Texts) == 0 {
		return req.target(), plugboard.Errorf(plugboard.EINVALID, "The request's texts are required.")
	}
	res, err := s.cfg.Daemon.InvokeTextEmbedding(ctx, r.PluginID, modelData(r, protocol.ModelRequest{Texts: req.Texts,
		InputType: req.InputType}), req.UserID)
	if err != nil {
		return req.target(), redacted(err, r.Secrets)
	}
	return req.target(), emit(res)
}

// rerank ranks documents against a query (Dify's RerankResult).
func (s *Service) rerank(ctx context.Context, c *Call, emit func(any) error) (string, error) {
	var req struct {
		modelBase
		Query          string   `json:"query"`
		Docs           []string `json:"docs"`
		ScoreThreshold *float64 `json:"score_threshold"`
		TopN           *int     `json:"top_n"`
	}
	if err := decode(c, &req); err != nil {
		return "", err
	}
	r, err := s.resolve(ctx, &req.modelBase, plugboard.ModelRerank)
	if err != nil {
		return req.target(), err
	}
	if err := required("query", req.Query); err != nil {
		return req.target(), err
	}
	docs := req.Docs
	if docs == nil {
		docs = []string{}
	}
	res, err := s.cfg.Daemon.InvokeRerank(ctx, r.PluginID, modelData(r, protocol.ModelRequest{Query: req.Query, Docs: docs,
		ScoreThreshold: req.ScoreThreshold, TopN: req.TopN}), req.UserID)
	if err != nil {
		return req.target(), redacted(err, r.Secrets)
	}
	return req.target(), emit(res)
}

// ttsChunk is how much audio one TTS chunk carries.
const ttsChunk = 64 << 10

// tts speaks a text; the audio streams back as Dify's {"result": hex}
// chunks.
func (s *Service) tts(ctx context.Context, c *Call, emit func(any) error) (string, error) {
	var req struct {
		modelBase
		ContentText string `json:"content_text"`
		Voice       string `json:"voice"`
	}
	if err := decode(c, &req); err != nil {
		return "", err
	}
	r, err := s.resolve(ctx, &req.modelBase, plugboard.ModelTTS)
	if err != nil {
		return req.target(), err
	}
	if err := required("content_text", req.ContentText); err != nil {
		return req.target(), err
	}
	sp, err := s.cfg.Models.SpeakWith(ctx, req.UserID, r, req.ContentText, req.Voice)
	if err != nil {
		return req.target(), err
	}
	for audio := sp.Audio; len(audio) > 0; {
		n := min(len(audio), ttsChunk)
		if err := emit(map[string]string{"result": hex.EncodeToString(audio[:n])}); err != nil {
			return req.target(), err
		}
		audio = audio[n:]
	}
	return req.target(), nil
}

// speech2text transcribes hex-encoded audio (Dify's {"result": text}).
func (s *Service) speech2text(ctx context.Context, c *Call, emit func(any) error) (string, error) {
	var req struct {
		modelBase
		File string `json:"file"`
	}
	if err := decode(c, &req); err != nil {
		return "", err
	}
	r, err := s.resolve(ctx, &req.modelBase, plugboard.ModelSpeech2Text)
	if err != nil {
		return req.target(), err
	}
	audio, err := hex.DecodeString(req.File)
	if err != nil || len(audio) == 0 {
		return req.target(), plugboard.Errorf(plugboard.EINVALID, "The request's file should be the audio, hex-encoded.")
	}
	tr, err := s.cfg.Models.TranscribeWith(ctx, req.UserID, r, audio)
	if err != nil {
		return req.target(), err
	}
	return req.target(), emit(map[string]string{"result": tr.Text})
}

// moderation reports whether a text is flagged (Dify's {"result": bool}).
func (s *Service) moderation(ctx context.Context, c *Call, emit func(any) error) (string, error) {
	var req struct {
		modelBase
		Text string `json:"text"`
	}
	if err := decode(c, &req); err != nil {
		return "", err
	}
	r, err := s.resolve(ctx, &req.modelBase, plugboard.ModelModeration)
	if err != nil {
		return req.target(), err
	}
	mod, err := s.cfg.Models.ModerateWith(ctx, req.UserID, r, req.Text)
	if err != nil {
		return req.target(), err
	}
	return req.target(), emit(map[string]bool{"result": mod.Flagged})
}

// chunkText is a chunk's text: its string content, or its text parts.
func chunkText(ch *protocol.LLMResultChunk) string {
	c := ch.Delta.Message.Content
	if c.Parts == nil {
		return c.Text
	}
	var b strings.Builder
	for _, p := range c.Parts {
		if p.Type == protocol.PartText {
			b.WriteString(p.Data)
		}
	}
	return b.String()
}
