// Command recall is a test plugin written with the SDK whose tool calls
// back into its host: it stores a value, reads it back and asks an LLM.
package main

import (
	"context"
	"errors"
	"io"
	"log"
	"strings"

	"github.com/plugboard/plugboard/daemon/protocol"
	"github.com/plugboard/plugboard/sdk"
)

func main() {
	p := sdk.New()
	p.Tool("recall", "remember", remember)
	log.Fatal(p.Run())
}

func remember(ctx context.Context, req *sdk.Request, w *sdk.Writer) error {
	s := w.Session()
	if err := s.Storage().Set(ctx, "value", []byte(req.String("value"))); err != nil {
		return err
	}
	v, err := s.Storage().Get(ctx, "value")
	if err != nil {
		return err
	}
	llm, err := s.InvokeLLM(ctx, sdk.LLMCall{Provider: "acme/m/m", Model: "m1", Stream: true,
		PromptMessages: []protocol.PromptMessage{{Role: "user", Content: protocol.Content{Text: string(v)}}}})
	if err != nil {
		return err
	}
	defer llm.Close()
	var answer strings.Builder
	for {
		c, err := llm.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		answer.WriteString(c.Delta.Message.Content.Text)
	}
	return w.Text("stored " + string(v) + "; the LLM said " + answer.String())
}
