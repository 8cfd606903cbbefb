package main

import (
	"context"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/sdk"
)

// CustomizableModelSchema describes the chat model the user added: a chat
// model of the context size given, with tool calls and vision as the
// credentials say, and OpenAI's sampling parameters.
func (m *chat) CustomizableModelSchema(ctx context.Context, req *sdk.ModelRequest) (*sdk.ModelSchema, error) {
	cfg, err := readConfig(req)
	if err != nil {
		return nil, err
	}
	var features []string
	if cfg.toolCalls {
		features = append(features, plugboard.FeatureToolCall, plugboard.FeatureMultiToolCall, plugboard.FeatureStreamToolCall)
	}
	if cfg.vision {
		features = append(features, plugboard.FeatureVision)
	}
	maxTokens := float64(cfg.maxTokens)
	return &sdk.ModelSchema{
		Features:        features,
		ModelProperties: map[string]any{"mode": "chat", "context_size": cfg.contextSize},
		ParameterRules: []sdk.ParameterRule{
			{Name: "temperature", UseTemplate: "temperature"},
			{Name: "top_p", UseTemplate: "top_p"},
			{Name: "presence_penalty", UseTemplate: "presence_penalty"},
			{Name: "frequency_penalty", UseTemplate: "frequency_penalty"},
			{Name: "max_tokens", UseTemplate: "max_tokens", Default: min(512, cfg.maxTokens), Max: &maxTokens},
		},
	}, nil
}

// CustomizableModelSchema describes the embedding model the user added.
func (m *embedder) CustomizableModelSchema(ctx context.Context, req *sdk.ModelRequest) (*sdk.ModelSchema, error) {
	cfg, err := readConfig(req)
	if err != nil {
		return nil, err
	}
	return &sdk.ModelSchema{ModelProperties: map[string]any{"context_size": cfg.contextSize, "max_chunks": 32}}, nil
}

// CustomizableModelSchema describes the rerank model the user added.
func (m *reranker) CustomizableModelSchema(ctx context.Context, req *sdk.ModelRequest) (*sdk.ModelSchema, error) {
	cfg, err := readConfig(req)
	if err != nil {
		return nil, err
	}
	return &sdk.ModelSchema{ModelProperties: map[string]any{"context_size": cfg.contextSize}}, nil
}
