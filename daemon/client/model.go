package client

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/protocol"
)

// The model calls take the route's data (apispec.ModelData: provider, model,
// credentials and the route's fields) and the user the call is made for; a
// model type left empty is the route's. A plugin's own error (Dify's
// InvokeRateLimitError, InvokeAuthorizationError …) comes back as an *Error
// whose PluginError gives its type and message.

// LLMStream reads the chunks of an llm/invoke reply.
type LLMStream struct{ s *ToolStream }

// Next returns the next chunk, io.EOF after the last one, or the stream's
// error (an *Error for the daemon's error frames).
func (s *LLMStream) Next() (*protocol.LLMResultChunk, error) {
	raw, err := s.s.nextData()
	if err != nil {
		return nil, err
	}
	var c protocol.LLMResultChunk
	if err := json.Unmarshal(raw, &c); err != nil {
		s.s.err = plugboard.Errorf(plugboard.EINVALID, "LLM chunk is malformed: %v", err)
		return nil, s.s.err
	}
	return &c, nil
}

// Close ends the stream; before its end this cancels the invocation.
func (s *LLMStream) Close() error { return s.s.Close() }

// InvokeLLM invokes an LLM (llm/invoke) and returns its chunks as a stream
// (data.Stream nil asks the plugin to stream). The caller must Close it;
// closing early cancels the call in the plugin.
func (c *Client) InvokeLLM(ctx context.Context, pluginID string, data apispec.ModelData, userID string) (*LLMStream, error) {
	if data.Stream == nil {
		yes := true
		data.Stream = &yes
	}
	s, err := c.open(ctx, "dispatch/llm/invoke", pluginID, modelBody(data, userID))
	if err != nil {
		return nil, err
	}
	return &LLMStream{s: s}, nil
}

// LLMNumTokens counts the tokens of data's prompt messages and tools (llm/num_tokens).
func (c *Client) LLMNumTokens(ctx context.Context, pluginID string, data apispec.ModelData, userID string) (int, error) {
	var res protocol.NumTokens
	err := c.single(ctx, "dispatch/llm/num_tokens", pluginID, modelBody(data, userID), &res)
	return res.NumTokens, err
}

// InvokeTextEmbedding embeds data's texts (text_embedding/invoke).
func (c *Client) InvokeTextEmbedding(ctx context.Context, pluginID string, data apispec.ModelData, userID string) (*protocol.TextEmbeddingResult, error) {
	var res protocol.TextEmbeddingResult
	if err := c.single(ctx, "dispatch/text_embedding/invoke", pluginID, modelBody(data, userID), &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// TextEmbeddingNumTokens counts the tokens of each of data's texts (text_embedding/num_tokens).
func (c *Client) TextEmbeddingNumTokens(ctx context.Context, pluginID string, data apispec.ModelData, userID string) ([]int, error) {
	var res protocol.TextEmbeddingNumTokens
	err := c.single(ctx, "dispatch/text_embedding/num_tokens", pluginID, modelBody(data, userID), &res)
	return res.NumTokens, err
}

// InvokeRerank ranks data's docs by relevance to its query (rerank/invoke).
func (c *Client) InvokeRerank(ctx context.Context, pluginID string, data apispec.ModelData, userID string) (*protocol.RerankResult, error) {
	var res protocol.RerankResult
	if err := c.single(ctx, "dispatch/rerank/invoke", pluginID, modelBody(data, userID), &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// InvokeTTS speaks data's content_text in its voice (tts/invoke) and returns
// the audio the plugin streamed, joined, with its MIME type when the plugin
// gave one.
func (c *Client) InvokeTTS(ctx context.Context, pluginID string, data apispec.ModelData, userID string) (audio []byte, mimeType string, err error) {
	s, err := c.open(ctx, "dispatch/tts/invoke", pluginID, modelBody(data, userID))
	if err != nil {
		return nil, "", err
	}
	defer s.Close()
	for {
		raw, err := s.nextData()
		if err == io.EOF {
			return audio, mimeType, nil
		}
		if err != nil {
			return nil, "", err
		}
		var chunk protocol.TTSChunk
		if err := json.Unmarshal(raw, &chunk); err != nil {
			return nil, "", fmt.Errorf("tts/invoke: decode a chunk %.200q: %w", raw, err)
		}
		part, err := hex.DecodeString(chunk.Result)
		if err != nil {
			return nil, "", fmt.Errorf("tts/invoke: a chunk's audio is not hex: %w", err)
		}
		if int64(len(audio)+len(part)) > c.maxBlob {
			return nil, "", plugboard.Errorf(plugboard.EINVALID, "tts/invoke: the audio is larger than the %d-byte limit", c.maxBlob)
		}
		audio = append(audio, part...)
		if chunk.MIMEType != "" {
			mimeType = chunk.MIMEType
		}
	}
}

// TTSVoices lists the voices of a TTS model, for data's language when it
// has one (tts/model/voices).
func (c *Client) TTSVoices(ctx context.Context, pluginID string, data apispec.ModelData, userID string) ([]protocol.TTSVoice, error) {
	var res protocol.TTSVoices
	err := c.single(ctx, "dispatch/tts/model/voices", pluginID, modelBody(data, userID), &res)
	return res.Voices, err
}

// InvokeSpeech2Text transcribes audio (speech2text/invoke); data.File is
// set from it.
func (c *Client) InvokeSpeech2Text(ctx context.Context, pluginID string, data apispec.ModelData, audio []byte, userID string) (string, error) {
	data.File = hex.EncodeToString(audio)
	var res protocol.TextResult
	err := c.single(ctx, "dispatch/speech2text/invoke", pluginID, modelBody(data, userID), &res)
	return res.Result, err
}

// InvokeModeration reports whether data's text is flagged (moderation/invoke).
func (c *Client) InvokeModeration(ctx context.Context, pluginID string, data apispec.ModelData, userID string) (bool, error) {
	res, err := c.Moderate(ctx, pluginID, data, userID)
	if err != nil {
		return false, err
	}
	return res.Result, nil
}

// Moderate is InvokeModeration's whole answer: flagged or not, and the
// categories when the plugin names them.
func (c *Client) Moderate(ctx context.Context, pluginID string, data apispec.ModelData, userID string) (*protocol.ModerationResult, error) {
	var res protocol.ModerationResult
	if err := c.single(ctx, "dispatch/moderation/invoke", pluginID, modelBody(data, userID), &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// ValidateProviderCredentials asks the plugin whether creds are valid for its
// model provider (model/validate_provider_credentials). A plugin that
// rejects them raises an error (Dify's CredentialsValidateFailedError),
// returned as an *Error; Result false with no error is a plugin that did
// not answer.
func (c *Client) ValidateProviderCredentials(ctx context.Context, pluginID, provider string, creds map[string]any, userID string) (*protocol.CredentialsResult, error) {
	return c.credentials(ctx, "dispatch/model/validate_provider_credentials", pluginID,
		apispec.ModelData{Provider: provider, Credentials: creds}, userID)
}

// ValidateModelCredentials asks the plugin whether data's credentials are
// valid for its model (model/validate_model_credentials), as
// ValidateProviderCredentials does for the provider.
func (c *Client) ValidateModelCredentials(ctx context.Context, pluginID string, data apispec.ModelData, userID string) (*protocol.CredentialsResult, error) {
	return c.credentials(ctx, "dispatch/model/validate_model_credentials", pluginID, data, userID)
}

func (c *Client) credentials(ctx context.Context, route, pluginID string, data apispec.ModelData, userID string) (*protocol.CredentialsResult, error) {
	var res protocol.CredentialsResult
	if err := c.single(ctx, route, pluginID, modelBody(data, userID), &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// ModelSchema asks the plugin for a model's declaration (model/schema), as
// a customizable model is described at run time; nil when it has none.
func (c *Client) ModelSchema(ctx context.Context, pluginID string, data apispec.ModelData, userID string) (*plugboard.ModelDeclaration, error) {
	var res struct {
		ModelSchema *plugboard.ModelDeclaration `json:"model_schema"`
	}
	err := c.single(ctx, "dispatch/model/schema", pluginID, modelBody(data, userID), &res)
	return res.ModelSchema, err
}

// modelBody wraps a model route's data in Dify's request envelope.
func modelBody(data apispec.ModelData, userID string) apispec.InvokeRequest[apispec.ModelData] {
	return apispec.InvokeRequest[apispec.ModelData]{UserID: userID, Data: data}
}
