package main

import (
	"cmp"
	"context"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/sdk"
)

// CustomizableModelSchema describes the chat model the user added: a chat
// model of the context size given, with tool calls and vision as the
// credentials say, OpenAI's sampling parameters, and the prices per
// million tokens when the credentials give them (the app prices each
// answer's usage by them).
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
	var pricing *plugboard.Pricing
	if cfg.inputPrice != "" || cfg.outputPrice != "" {
		out := cmp.Or(cfg.outputPrice, "0")
		pricing = &plugboard.Pricing{Input: cmp.Or(cfg.inputPrice, "0"), Output: &out, Unit: "0.000001", Currency: "USD"}
	}
	return &sdk.ModelSchema{
		Pricing:         pricing,
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
