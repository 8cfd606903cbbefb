package main

import (
	"context"
	"hash/fnv"
	"math"
	"strings"
	"unicode"

	"github.com/plugboard/plugboard/sdk"
)

// dimensions is the length of the demo's embedding vectors.
const dimensions = 64

// embedding is the demo embedding model: each word of a text is hashed to
// one of 64 dimensions and counted, and the vector is scaled to length 1,
// so texts sharing words are similar. Deterministic, and not semantic.
type embedding struct{}

// EmbedTexts returns one vector per text.
func (embedding) EmbedTexts(ctx context.Context, req *sdk.EmbeddingRequest) (*sdk.EmbeddingResult, error) {
	res := &sdk.EmbeddingResult{Embeddings: make([][]float64, len(req.Texts))}
	for i, t := range req.Texts {
		res.Embeddings[i] = vector(t)
		res.Usage.Tokens += sdk.EstimateTokens(t)
	}
	return res, nil
}

// vector is the text's word-hash vector, of length 1 (all zeros for a text
// without words).
func vector(text string) []float64 {
	v := make([]float64, dimensions)
	for _, w := range words(text) {
		h := fnv.New32a()
		h.Write([]byte(w))
		v[h.Sum32()%dimensions]++
	}
	var norm float64
	for _, x := range v {
		norm += x * x
	}
	if norm > 0 {
		norm = math.Sqrt(norm)
		for i := range v {
			v[i] = math.Round(v[i]/norm*1e6) / 1e6
		}
	}
	return v
}

// words are the text's lower-cased words (runs of letters and digits).
func words(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// rerank is the demo rerank model: a document's score is the share of the
// query's distinct words it contains.
type rerank struct{}

// Rerank scores every document; the SDK orders them and applies the
// request's threshold and top n.
func (rerank) Rerank(ctx context.Context, req *sdk.RerankRequest) (*sdk.RerankResult, error) {
	query := map[string]bool{}
	for _, w := range words(req.Query) {
		query[w] = true
	}
	res := &sdk.RerankResult{}
	for i, d := range req.Docs {
		seen := map[string]bool{}
		for _, w := range words(d) {
			if query[w] {
				seen[w] = true
			}
		}
		score := 0.0
		if len(query) > 0 {
			score = math.Round(float64(len(seen))/float64(len(query))*1e4) / 1e4
		}
		res.Docs = append(res.Docs, sdk.RerankDocument{Index: i, Text: d, Score: score})
	}
	return res, nil
}
