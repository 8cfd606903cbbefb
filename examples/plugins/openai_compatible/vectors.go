package main

import (
	"context"
	"errors"
	"net/http"
	"slices"

	"github.com/plugboard/plugboard/sdk"
)

// embedder is the provider's text-embedding model: /embeddings.
type embedder struct{ cl *upstream }

// EmbedTexts asks the server for one vector per text.
func (m *embedder) EmbedTexts(ctx context.Context, req *sdk.EmbeddingRequest) (*sdk.EmbeddingResult, error) {
	cfg, err := readConfig(&req.ModelRequest)
	if err != nil {
		return nil, err
	}
	return m.cl.embed(ctx, cfg, req.Texts)
}

// ValidateModelCredentials embeds one word.
func (m *embedder) ValidateModelCredentials(ctx context.Context, req *sdk.ModelRequest) error {
	cfg, err := readConfig(req)
	if err != nil {
		return credentialsError(err)
	}
	_, err = m.cl.embed(ctx, cfg, []string{"ping"})
	return credentialsError(err)
}

func (cl *upstream) embed(ctx context.Context, cfg config, texts []string) (*sdk.EmbeddingResult, error) {
	ex, err := cl.post(ctx, cfg, cfg.baseURL+"/embeddings",
		map[string]any{"model": cfg.model, "input": texts, "encoding_format": "float"})
	if err != nil {
		return nil, err
	}
	var answer struct {
		Data  []embeddingData `json:"data"`
		Usage openAIUsage     `json:"usage"`
	}
	if err := ex.decodeJSON(&answer); err != nil {
		return nil, err
	}
	slices.SortStableFunc(answer.Data, func(a, b embeddingData) int { return a.Index - b.Index })
	res := &sdk.EmbeddingResult{Model: cfg.model, Usage: sdk.EmbeddingUsage{Tokens: answer.Usage.PromptTokens, TotalTokens: answer.Usage.TotalTokens}}
	for _, d := range answer.Data {
		res.Embeddings = append(res.Embeddings, d.Embedding)
	}
	if len(res.Embeddings) != len(texts) {
		return nil, sdk.Errorf(sdk.ErrTypeInvokeModel, "%s answered %d vectors for %d texts", ex.url, len(res.Embeddings), len(texts))
	}
	return res, nil
}

// embeddingData is one vector of an /embeddings answer.
type embeddingData struct {
	Index     int       `json:"index"`
	Embedding []float64 `json:"embedding"`
}

// reranker is the provider's rerank model: /rerank as vLLM, llama.cpp
// server, Jina and Cohere answer it.
type reranker struct{ cl *upstream }

// Rerank asks the server to score the documents.
func (m *reranker) Rerank(ctx context.Context, req *sdk.RerankRequest) (*sdk.RerankResult, error) {
	cfg, err := readConfig(&req.ModelRequest)
	if err != nil {
		return nil, err
	}
	return m.cl.rerank(ctx, cfg, req.Query, req.Docs)
}

// ValidateModelCredentials reranks one document.
func (m *reranker) ValidateModelCredentials(ctx context.Context, req *sdk.ModelRequest) error {
	cfg, err := readConfig(req)
	if err != nil {
		return credentialsError(err)
	}
	_, err = m.cl.rerank(ctx, cfg, "ping", []string{"ping"})
	return credentialsError(err)
}

func (cl *upstream) rerank(ctx context.Context, cfg config, query string, docs []string) (*sdk.RerankResult, error) {
	url := cfg.rerankURL
	if url == "" {
		url = cfg.baseURL + "/rerank"
	}
	ex, err := cl.post(ctx, cfg, url, map[string]any{"model": cfg.model, "query": query, "documents": docs})
	var se *statusError
	if errors.As(err, &se) && (se.status == http.StatusNotFound || se.status == http.StatusMethodNotAllowed) {
		return nil, sdk.Errorf(sdk.ErrTypeInvokeBadRequest, "this server has no rerank endpoint at %s (set the rerank URL, or use a server that has one): %s", url, se.err.Message)
	}
	if err != nil {
		return nil, err
	}
	var answer struct {
		Results []struct {
			Index          int      `json:"index"`
			RelevanceScore *float64 `json:"relevance_score"`
			Score          float64  `json:"score"`
		} `json:"results"`
	}
	if err := ex.decodeJSON(&answer); err != nil {
		return nil, err
	}
	res := &sdk.RerankResult{Model: cfg.model}
	for _, r := range answer.Results {
		if r.Index < 0 || r.Index >= len(docs) {
			return nil, sdk.Errorf(sdk.ErrTypeInvokeModel, "%s ranked document %d of %d", ex.url, r.Index, len(docs))
		}
		score := r.Score
		if r.RelevanceScore != nil {
			score = *r.RelevanceScore
		}
		res.Docs = append(res.Docs, sdk.RerankDocument{Index: r.Index, Text: docs[r.Index], Score: score})
	}
	return res, nil
}
