package models_test

import (
	"context"
	"strings"
	"testing"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/app/models"
)

// TestTry embeds and reranks with demo_model's models under the real
// daemon, and refuses bad input before calling the plugin.
func TestTry(t *testing.T) {
	env := MustEnv(t)
	ctx := context.Background()
	emb := models.ModelRef{PluginID: demoID, Provider: "demo_model", Model: "demo-embedding"}
	rr := models.ModelRef{PluginID: demoID, Provider: "demo_model", Model: "demo-rerank"}

	t.Run("OKEmbed", func(t *testing.T) {
		res, err := env.Svc.Embed(ctx, "alice", emb, []string{"red apple", "red apple", "blue sky"})
		if err != nil {
			t.Fatal(err)
		}
		if res.Dimensions != 64 || len(res.Embeddings) != 3 || len(res.Similarity) != 3 {
			t.Fatalf("Embed = %+v", res)
		}
		if s := res.Similarity[0][1]; s < 0.999 {
			t.Fatalf("same texts' similarity %v", s)
		}
		if s := res.Similarity[0][2]; s > 0.5 {
			t.Fatalf("different texts' similarity %v", s)
		}
	})
	t.Run("OKRerank", func(t *testing.T) {
		res, err := env.Svc.Rerank(ctx, "alice", rr, "red apple", []string{"blue sky", "a red apple", "red car"})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Docs) == 0 || res.Docs[0].Index != 1 || res.Docs[0].Score != 1 {
			t.Fatalf("Rerank = %+v", res.Docs)
		}
	})
	t.Run("ErrInput", func(t *testing.T) {
		for name, err := range map[string]error{
			"no texts":    second(env.Svc.Embed(ctx, "alice", emb, nil)),
			"33 texts":    second(env.Svc.Embed(ctx, "alice", emb, make([]string, 33))),
			"empty query": second(env.Svc.Rerank(ctx, "alice", rr, " ", []string{"x"})),
			"no docs":     second(env.Svc.Rerank(ctx, "alice", rr, "q", nil)),
		} {
			if plugboard.ErrorCode(err) != plugboard.EINVALID || plugboard.ErrorMessage(err) == "" {
				t.Errorf("%s: %v", name, err)
			}
		}
		err := second(env.Svc.Embed(ctx, "alice", emb, make([]string, 33)))
		if !strings.Contains(err.Error(), "At most 32") {
			t.Errorf("33 texts: %v", err)
		}
	})
	t.Run("ErrUnknownModel", func(t *testing.T) {
		_, err := env.Svc.Embed(ctx, "alice", models.ModelRef{PluginID: demoID, Provider: "demo_model", Model: "nope"}, []string{"x"})
		if err == nil {
			t.Fatal("an unknown model embedded")
		}
	})
}

// second is a call's error.
func second[T any](_ T, err error) error { return err }
