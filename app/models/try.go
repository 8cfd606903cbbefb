package models

import (
	"context"
	"math"
	"strings"
	"time"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/protocol"
)

// MaxTryItems is how many texts (or documents) one tryout of an embedding
// or rerank model takes at most, to keep the similarity table and the call
// small.
const MaxTryItems = 32

// EmbedResult is an embedding model's answer: one vector per text, the
// vectors' length, the pairwise cosine similarities and the usage.
type EmbedResult struct {
	Embeddings [][]float64
	Dimensions int
	// Similarity[i][j] is the cosine similarity of texts i and j.
	Similarity [][]float64
	Usage      protocol.EmbeddingUsage
	Took       time.Duration
}

// Embed embeds texts with an embedding model and its credentials
// (Credentials). No texts, or more than MaxTryItems, is an invalid error; so
// is a plugin answering with a vector count other than the texts'. A
// plugin's error keeps its message, the model's secrets redacted.
func (s *Service) Embed(ctx context.Context, actor string, ref ModelRef, texts []string) (*EmbedResult, error) {
	if err := checkItems("text", texts); err != nil {
		return nil, err
	}
	r, err := s.Credentials(ctx, ref.PluginID, ref.Provider, plugboard.ModelTextEmbedding, ref.Model)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	res, err := s.daemon.InvokeTextEmbedding(ctx, r.PluginID, apispec.ModelData{Provider: r.Provider, Credentials: r.Credentials,
		ModelRequest: protocol.ModelRequest{ModelType: plugboard.ModelTextEmbedding, Model: r.Model, Texts: texts}}, actor)
	if err != nil {
		return nil, s.redacted(err, r.Secrets)
	}
	if len(res.Embeddings) != len(texts) {
		return nil, plugboard.Errorf(plugboard.EINVALID, "The model answered %d vectors for %d texts.", len(res.Embeddings), len(texts))
	}
	out := &EmbedResult{Embeddings: res.Embeddings, Usage: res.Usage, Took: time.Since(start)}
	if len(res.Embeddings) > 0 {
		out.Dimensions = len(res.Embeddings[0])
	}
	out.Similarity = make([][]float64, len(texts))
	for i := range texts {
		out.Similarity[i] = make([]float64, len(texts))
		for j := range texts {
			out.Similarity[i][j] = cosine(res.Embeddings[i], res.Embeddings[j])
		}
	}
	return out, nil
}

// RerankResult is a rerank model's answer: the documents it kept, most
// relevant first, each with its index in the request and its score.
type RerankResult struct {
	Docs []protocol.RerankDocument
	Took time.Duration
}

// Rerank ranks docs by their relevance to query with a rerank model and its
// credentials (Credentials). An empty query, no documents or more than
// MaxTryItems is an invalid error. A plugin's error keeps its message, the
// model's secrets redacted.
func (s *Service) Rerank(ctx context.Context, actor string, ref ModelRef, query string, docs []string) (*RerankResult, error) {
	if strings.TrimSpace(query) == "" {
		return nil, plugboard.Errorf(plugboard.EINVALID, "Write a query first.")
	}
	if err := checkItems("document", docs); err != nil {
		return nil, err
	}
	r, err := s.Credentials(ctx, ref.PluginID, ref.Provider, plugboard.ModelRerank, ref.Model)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	res, err := s.daemon.InvokeRerank(ctx, r.PluginID, apispec.ModelData{Provider: r.Provider, Credentials: r.Credentials,
		ModelRequest: protocol.ModelRequest{ModelType: plugboard.ModelRerank, Model: r.Model, Query: query, Docs: docs}}, actor)
	if err != nil {
		return nil, s.redacted(err, r.Secrets)
	}
	return &RerankResult{Docs: res.Docs, Took: time.Since(start)}, nil
}

// checkItems refuses no items, an empty one, or more than MaxTryItems.
func checkItems(what string, items []string) error {
	if len(items) == 0 {
		return plugboard.Errorf(plugboard.EINVALID, "Write at least one %s, one per line.", what)
	}
	if len(items) > MaxTryItems {
		return plugboard.Errorf(plugboard.EINVALID, "At most %d %ss at a time; there are %d.", MaxTryItems, what, len(items))
	}
	for i, t := range items {
		if strings.TrimSpace(t) == "" {
			return plugboard.Errorf(plugboard.EINVALID, "The %s on line %d is empty.", what, i+1)
		}
	}
	return nil
}

// cosine is the cosine similarity of a and b (0 when either is all zeros
// or their lengths differ).
func cosine(a, b []float64) float64 {
	if len(a) != len(b) {
		return 0
	}
	var dot, na, nb float64
	for i := range a {
		dot += a[i] * b[i]
		na += a[i] * a[i]
		nb += b[i] * b[i]
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return dot / math.Sqrt(na*nb)
}
