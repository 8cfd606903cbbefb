package sdk

import (
	"cmp"
	"context"
	"encoding/hex"
	"fmt"
	"slices"
	"time"

	"github.com/plugboard/plugboard/daemon/protocol"
)

// routeModel calls the registered model a model request is for.
func (s *server) routeModel(ctx context.Context, in *inbound, w *Writer) error {
	md := in.Data.ModelRequest
	if md == nil {
		md = &protocol.ModelRequest{}
	}
	mr := newModelRequest(in, md)
	if in.Data.Action == protocol.ActionValidateProviderCredentials {
		return s.validateProvider(ctx, mr, w)
	}
	m, err := s.findModel(mr)
	if err != nil {
		return err
	}
	h := modelActions[in.Data.Action]
	if h == nil {
		return Errorf(ErrTypeBadRequest, "action %q is not supported by this plugin", in.Data.Action)
	}
	return h(ctx, modelCall{m: m, req: mr, data: md, w: w})
}

func newModelRequest(in *inbound, md *protocol.ModelRequest) ModelRequest {
	d := in.Data
	return ModelRequest{
		SessionID: in.SessionID, UserID: d.UserID, Action: d.Action, Provider: d.Provider,
		ModelType: md.ModelType, Model: md.Model, Credentials: Credentials(d.Credentials),
	}
}

// findModel returns the model registered for the request's provider and
// model type.
func (s *server) findModel(req ModelRequest) (any, error) {
	if !s.p.modelProviders[req.Provider] {
		return nil, Errorf(ErrTypeInvokeBadRequest, "model provider %q is not served by this plugin", req.Provider)
	}
	m := s.p.models[modelKey{req.Provider, req.ModelType}]
	if m == nil {
		return nil, Errorf(ErrTypeInvokeBadRequest, "provider %q has no %q models in this plugin", req.Provider, req.ModelType)
	}
	return m, nil
}

// modelCall is one model request on its way to the model.
type modelCall struct {
	m    any
	req  ModelRequest
	data *protocol.ModelRequest
	w    *Writer
}

// modelActions answer the model actions other than
// validate_provider_credentials.
var modelActions = map[string]func(context.Context, modelCall) error{
	protocol.ActionInvokeLLM:                 invokeLLM,
	protocol.ActionGetLLMNumTokens:           llmNumTokens,
	protocol.ActionInvokeTextEmbedding:       invokeEmbedding,
	protocol.ActionGetTextEmbeddingNumTokens: embeddingNumTokens,
	protocol.ActionInvokeRerank:              invokeRerank,
	protocol.ActionInvokeTTS:                 invokeTTS,
	protocol.ActionGetTTSModelVoices:         ttsVoices,
	protocol.ActionInvokeSpeech2Text:         invokeSpeech2Text,
	protocol.ActionInvokeModeration:          invokeModeration,
	protocol.ActionValidateModelCredentials:  validateModel,
	protocol.ActionGetAIModelSchemas:         modelSchema,
}

// wrongType answers an action the registered model type has no method for
// (an embedding request for a provider's LLM, say).
func wrongType(c modelCall) error {
	return Errorf(ErrTypeInvokeBadRequest, "action %q does not apply to %q models", c.req.Action, c.req.ModelType)
}

func (c modelCall) llmRequest() *LLMRequest {
	d := c.data
	return &LLMRequest{
		ModelRequest: c.req, PromptMessages: d.PromptMessages, ModelParameters: orEmptyMap(d.ModelParameters),
		Tools: d.Tools, ToolChoice: d.ToolChoice, Stop: d.Stop, JSONSchema: d.JSONSchema,
		Stream: d.Stream == nil || *d.Stream,
	}
}

func invokeLLM(ctx context.Context, c modelCall) error {
	m, ok := c.m.(LLM)
	if !ok {
		return wrongType(c)
	}
	req := c.llmRequest()
	lw := newLLMWriter(c.w, req)
	if err := m.InvokeLLM(ctx, req, lw); err != nil {
		return err
	}
	return lw.close()
}

func llmNumTokens(ctx context.Context, c modelCall) error {
	req := c.llmRequest()
	n := 0
	switch m := c.m.(type) {
	case LLMTokenCounter:
		var err error
		if n, err = m.LLMNumTokens(ctx, req); err != nil {
			return err
		}
	case LLM:
		for _, msg := range req.PromptMessages {
			n += EstimateTokens(MessageText(msg))
		}
	default:
		return wrongType(c)
	}
	return c.w.raw(protocol.NumTokens{NumTokens: n})
}

func (c modelCall) embeddingRequest() *EmbeddingRequest {
	return &EmbeddingRequest{ModelRequest: c.req, Texts: orEmpty(c.data.Texts), InputType: c.data.InputType}
}

func invokeEmbedding(ctx context.Context, c modelCall) error {
	m, ok := c.m.(TextEmbedding)
	if !ok {
		return wrongType(c)
	}
	start := time.Now()
	req := c.embeddingRequest()
	res, err := m.EmbedTexts(ctx, req)
	if err != nil {
		return err
	}
	if res == nil || len(res.Embeddings) != len(req.Texts) {
		return Errorf(ErrTypeInvoke, "the embedding model answered %d vectors for %d texts", embeddingCount(res), len(req.Texts))
	}
	out := *res
	out.Model = cmp.Or(out.Model, req.Model)
	if out.Usage.Latency == 0 {
		out.Usage.Latency = time.Since(start).Seconds()
	}
	fillEmbeddingUsage(&out.Usage)
	return c.w.raw(out)
}

func embeddingCount(res *EmbeddingResult) int {
	if res == nil {
		return 0
	}
	return len(res.Embeddings)
}

func embeddingNumTokens(ctx context.Context, c modelCall) error {
	req := c.embeddingRequest()
	var counts []int
	switch m := c.m.(type) {
	case EmbeddingTokenCounter:
		var err error
		if counts, err = m.EmbeddingNumTokens(ctx, req); err != nil {
			return err
		}
	case TextEmbedding:
		for _, t := range req.Texts {
			counts = append(counts, EstimateTokens(t))
		}
	default:
		return wrongType(c)
	}
	return c.w.raw(protocol.TextEmbeddingNumTokens{NumTokens: orEmpty(counts)})
}

func invokeRerank(ctx context.Context, c modelCall) error {
	m, ok := c.m.(Rerank)
	if !ok {
		return wrongType(c)
	}
	req := &RerankRequest{ModelRequest: c.req, Query: c.data.Query, Docs: orEmpty(c.data.Docs),
		ScoreThreshold: c.data.ScoreThreshold, TopN: c.data.TopN}
	res, err := m.Rerank(ctx, req)
	if err != nil {
		return err
	}
	if res == nil {
		res = &RerankResult{}
	}
	return c.w.raw(RerankResult{Model: cmp.Or(res.Model, req.Model), Docs: rankDocs(res.Docs, req)})
}

// rankDocs orders docs by falling score (ties by index) and applies the
// request's score threshold and top n; a top n of zero, which Dify's daemon
// sends for an absent one, leaves every document.
func rankDocs(docs []RerankDocument, req *RerankRequest) []RerankDocument {
	out := make([]RerankDocument, 0, len(docs))
	for _, d := range docs {
		if req.ScoreThreshold == nil || d.Score >= *req.ScoreThreshold {
			out = append(out, d)
		}
	}
	slices.SortStableFunc(out, func(a, b RerankDocument) int {
		return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(a.Index, b.Index))
	})
	if req.TopN != nil && *req.TopN > 0 && *req.TopN < len(out) {
		out = out[:*req.TopN]
	}
	return out
}

func invokeTTS(ctx context.Context, c modelCall) error {
	m, ok := c.m.(TTS)
	if !ok {
		return wrongType(c)
	}
	req := &TTSRequest{ModelRequest: c.req, ContentText: c.data.ContentText, Voice: c.data.Voice, TenantID: c.data.TenantID}
	return m.InvokeTTS(ctx, req, &AudioWriter{w: c.w})
}

func ttsVoices(ctx context.Context, c modelCall) error {
	m, ok := c.m.(TTS)
	if !ok {
		return wrongType(c)
	}
	var lang string
	if c.data.Language != nil {
		lang = *c.data.Language
	}
	voices, err := m.TTSVoices(ctx, &TTSVoicesRequest{ModelRequest: c.req, Language: lang})
	if err != nil {
		return err
	}
	return c.w.raw(protocol.TTSVoices{Voices: orEmpty(voices)})
}

func invokeSpeech2Text(ctx context.Context, c modelCall) error {
	m, ok := c.m.(Speech2Text)
	if !ok {
		return wrongType(c)
	}
	audio, err := hex.DecodeString(c.data.File)
	if err != nil {
		return Errorf(ErrTypeInvokeBadRequest, "the audio file is not hex: %v", err)
	}
	text, err := m.Transcribe(ctx, &Speech2TextRequest{ModelRequest: c.req, Audio: audio})
	if err != nil {
		return err
	}
	return c.w.raw(protocol.TextResult{Result: text})
}

func invokeModeration(ctx context.Context, c modelCall) error {
	m, ok := c.m.(Moderation)
	if !ok {
		return wrongType(c)
	}
	req := &ModerationRequest{ModelRequest: c.req, Text: c.data.Text}
	if mc, ok := m.(ModerationCategorizer); ok {
		v, err := mc.ModerateCategories(ctx, req)
		if err != nil {
			return err
		}
		if v == nil {
			v = &ModerationVerdict{}
		}
		return c.w.raw(protocol.ModerationResult{Result: v.Flagged, Categories: v.Categories})
	}
	flagged, err := m.Moderate(ctx, req)
	if err != nil {
		return err
	}
	return c.w.raw(protocol.ModerationResult{Result: flagged})
}

func (s *server) validateProvider(ctx context.Context, req ModelRequest, w *Writer) error {
	if !s.p.modelProviders[req.Provider] {
		return Errorf(ErrTypeCredentialsValidateFailed, "model provider %q is not served by this plugin", req.Provider)
	}
	creds := orEmptyMap(req.Credentials)
	if v := s.p.modelValidators[req.Provider]; v != nil {
		if err := v(ctx, creds); err != nil {
			return err
		}
	}
	return w.raw(protocol.CredentialsResult{Result: true, Credentials: creds})
}

func validateModel(ctx context.Context, c modelCall) error {
	req := c.req
	req.Credentials = orEmptyMap(req.Credentials)
	if v, ok := c.m.(ModelCredentialsValidator); ok {
		if err := v.ValidateModelCredentials(ctx, &req); err != nil {
			return err
		}
	}
	return c.w.raw(protocol.CredentialsResult{Result: true, Credentials: req.Credentials})
}

func modelSchema(ctx context.Context, c modelCall) error {
	var schema *ModelSchema
	if cm, ok := c.m.(CustomizableModel); ok {
		var err error
		if schema, err = cm.CustomizableModelSchema(ctx, &c.req); err != nil {
			return fmt.Errorf("the schema of model %s: %w", c.req.Model, err)
		}
	}
	if schema != nil {
		filled, err := fillSchema(*schema, c.req)
		if err != nil {
			return fmt.Errorf("the schema of model %s: %w", c.req.Model, err)
		}
		schema = &filled
	}
	return c.w.raw(map[string]*ModelSchema{"model_schema": schema})
}

// orEmpty returns v, or an empty slice when v is nil, so that JSON answers
// carry [] rather than null.
func orEmpty[E any](v []E) []E {
	if v == nil {
		return []E{}
	}
	return v
}

// orEmptyMap returns m, or an empty map when m is nil.
func orEmptyMap[M ~map[K]V, K comparable, V any](m M) M {
	if m == nil {
		return M{}
	}
	return m
}
