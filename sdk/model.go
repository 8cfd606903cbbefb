package sdk

import (
	"context"
	"fmt"

	"github.com/plugboard/plugboard"
)

// Model types, the model_type of a request: the root package's, here so
// that a plugin needs only the SDK.
const (
	ModelLLM           = plugboard.ModelLLM
	ModelTextEmbedding = plugboard.ModelTextEmbedding
	ModelRerank        = plugboard.ModelRerank
	ModelTTS           = plugboard.ModelTTS
	ModelSpeech2Text   = plugboard.ModelSpeech2Text
	ModelModeration    = plugboard.ModelModeration
)

// LLM serves a provider's large language models. InvokeLLM streams the
// answer to w: text pieces, tool calls, and last the usage and finish
// reason (w.Finish); the SDK sends them as Dify's LLMResultChunks.
//
// A model type may also implement ModelCredentialsValidator,
// CustomizableModel and, for an LLM, LLMTokenCounter.
type LLM interface {
	InvokeLLM(ctx context.Context, req *LLMRequest, w *LLMWriter) error
}

// LLMTokenCounter counts the tokens of an LLM prompt (get_llm_num_tokens).
// An LLM without it is answered with EstimateTokens over the prompt's text.
type LLMTokenCounter interface {
	LLMNumTokens(ctx context.Context, req *LLMRequest) (int, error)
}

// TextEmbedding serves a provider's text-embedding models.
type TextEmbedding interface {
	EmbedTexts(ctx context.Context, req *EmbeddingRequest) (*EmbeddingResult, error)
}

// EmbeddingTokenCounter counts the tokens of each text
// (get_text_embedding_num_tokens); without it EstimateTokens answers.
type EmbeddingTokenCounter interface {
	EmbeddingNumTokens(ctx context.Context, req *EmbeddingRequest) ([]int, error)
}

// Rerank serves a provider's rerank models. The SDK applies the request's
// score threshold and top n to the answer, so a model may return every
// document.
type Rerank interface {
	Rerank(ctx context.Context, req *RerankRequest) (*RerankResult, error)
}

// TTS serves a provider's text-to-speech models: InvokeTTS writes the audio
// to w, which sends it in hex chunks as Dify's SDK does; TTSVoices lists the
// voices for a language ("" for all).
type TTS interface {
	InvokeTTS(ctx context.Context, req *TTSRequest, w *AudioWriter) error
	TTSVoices(ctx context.Context, req *TTSVoicesRequest) ([]Voice, error)
}

// Speech2Text serves a provider's speech-to-text models: the audio's text.
type Speech2Text interface {
	Transcribe(ctx context.Context, req *Speech2TextRequest) (string, error)
}

// Moderation serves a provider's moderation models: true when the text
// is flagged.
type Moderation interface {
	Moderate(ctx context.Context, req *ModerationRequest) (bool, error)
}

// ModerationCategorizer is a Moderation model that also names why a text
// is flagged. When a model implements it the SDK calls it instead of
// Moderate and sends the verdict's categories with the result (Plugboard's
// addition to Dify's answer, which Dify ignores).
type ModerationCategorizer interface {
	ModerateCategories(ctx context.Context, req *ModerationRequest) (*ModerationVerdict, error)
}

// ModerationVerdict is a moderation model's answer: whether the text is
// flagged, and the categories it was flagged for.
type ModerationVerdict struct {
	Flagged    bool
	Categories []string
}

// ModelCredentialsValidator checks one model's credentials
// (validate_model_credentials); a non-nil error rejects them and is sent as
// a CredentialsValidateFailedError. A model type without it accepts any.
// The validator may normalise req.Credentials: they are sent back, and Dify
// stores what it gets.
type ModelCredentialsValidator interface {
	ValidateModelCredentials(ctx context.Context, req *ModelRequest) error
}

// CustomizableModel describes a model the user added by name with its
// credentials (get_ai_model_schemas, Dify's get_customizable_model_schema).
// A nil schema answers that there is none. Parameter rules that name a
// use_template are filled from Dify's templates before the schema is sent.
type CustomizableModel interface {
	CustomizableModelSchema(ctx context.Context, req *ModelRequest) (*ModelSchema, error)
}

// modelKey finds the model a request is for.
type modelKey struct{ provider, modelType string }

// LLM registers provider's LLM. Like Tool it panics on an empty name, a nil
// model or a second registration of the same provider and model type.
func (p *Plugin) LLM(provider string, m LLM) { p.registerModel(provider, ModelLLM, m) }

// TextEmbedding registers provider's text-embedding model.
func (p *Plugin) TextEmbedding(provider string, m TextEmbedding) {
	p.registerModel(provider, ModelTextEmbedding, m)
}

// Rerank registers provider's rerank model.
func (p *Plugin) Rerank(provider string, m Rerank) { p.registerModel(provider, ModelRerank, m) }

// TTS registers provider's text-to-speech model.
func (p *Plugin) TTS(provider string, m TTS) { p.registerModel(provider, ModelTTS, m) }

// Speech2Text registers provider's speech-to-text model.
func (p *Plugin) Speech2Text(provider string, m Speech2Text) {
	p.registerModel(provider, ModelSpeech2Text, m)
}

// Moderation registers provider's moderation model.
func (p *Plugin) Moderation(provider string, m Moderation) {
	p.registerModel(provider, ModelModeration, m)
}

// ValidateProviderCredentials registers the check of a model provider's
// credentials (validate_provider_credentials). v may change the map it is
// given: the credentials are sent back, and Dify keeps what it gets.
// Without one, any credentials of a registered model provider are accepted.
func (p *Plugin) ValidateProviderCredentials(provider string, v CredentialsValidator) {
	mustRegister(provider, "-", v != nil)
	p.modelValidators[provider] = v
	p.modelProviders[provider] = true
}

func (p *Plugin) registerModel(provider, modelType string, m any) {
	mustRegister(provider, modelType, m != nil)
	k := modelKey{provider, modelType}
	if _, dup := p.models[k]; dup {
		panic(fmt.Sprintf("sdk: %s model of provider %s registered twice", modelType, provider))
	}
	p.models[k] = m
	p.modelProviders[provider] = true
}

// ModelRequest is what every model request carries: who asks, for which
// provider, model type and model, with which credentials.
type ModelRequest struct {
	SessionID   string
	UserID      string
	Action      string // invoke_llm, validate_model_credentials, …
	Provider    string
	ModelType   string
	Model       string
	Credentials Credentials
}

// LLMRequest is an invoke_llm (or get_llm_num_tokens) request.
type LLMRequest struct {
	ModelRequest
	PromptMessages  []PromptMessage
	ModelParameters map[string]any // temperature, max_tokens, … as the user set them
	Tools           []PromptTool   // the tools the model may call; nil when none are offered
	ToolChoice      *ToolChoice
	Stop            []string
	JSONSchema      map[string]any // the structured output's schema, when one is asked for
	Stream          bool           // false: the SDK sends the answer as one chunk
}

// EmbeddingRequest is an invoke_text_embedding (or
// get_text_embedding_num_tokens) request.
type EmbeddingRequest struct {
	ModelRequest
	Texts     []string
	InputType string // document or query
}

// RerankRequest is an invoke_rerank request.
type RerankRequest struct {
	ModelRequest
	Query          string
	Docs           []string
	ScoreThreshold *float64 // documents scoring below it are left out
	TopN           *int     // at most this many documents are answered (0: all)
}

// TTSRequest is an invoke_tts request.
type TTSRequest struct {
	ModelRequest
	ContentText string
	Voice       string
	TenantID    string
}

// TTSVoicesRequest is a get_tts_model_voices request.
type TTSVoicesRequest struct {
	ModelRequest
	Language string
}

// Speech2TextRequest is an invoke_speech2text request; Audio holds the
// file's bytes (hex on the wire).
type Speech2TextRequest struct {
	ModelRequest
	Audio []byte
}

// ModerationRequest is an invoke_moderation request.
type ModerationRequest struct {
	ModelRequest
	Text string
}

// EstimateTokens is a rough token count of text, about four bytes a token,
// for models that cannot count their own.
func EstimateTokens(text string) int {
	return (len(text) + 3) / 4
}
