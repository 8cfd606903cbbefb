// Command stampmodel is the first-token-to-DOM benchmark's model: its LLM
// answers with the time it writes its first token (Unix microseconds, read
// from the clock right before the SDK writes the chunk to stdout), then a
// few more tokens, so a page can tell how long the token took to reach it.
package main

import (
	"context"
	"log"
	"strconv"
	"time"

	"github.com/plugboard/plugboard/sdk"
)

type stamp struct{}

// InvokeLLM waits the request's wait_ms (a model's time to its first
// token), writes the stamp as the first token, then " ok" twice, 5 ms
// apart, and finishes.
func (stamp) InvokeLLM(ctx context.Context, req *sdk.LLMRequest, w *sdk.LLMWriter) error {
	if ms, _ := req.ModelParameters["wait_ms"].(float64); ms > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(ms) * time.Millisecond):
		}
	}
	if err := w.Text(strconv.FormatInt(time.Now().UnixMicro(), 10)); err != nil {
		return err
	}
	for range 2 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
		if err := w.Text(" ok"); err != nil {
			return err
		}
	}
	return w.Finish(sdk.FinishStop, sdk.LLMUsage{PromptTokens: 1, CompletionTokens: 3})
}

func main() {
	p := sdk.New()
	p.LLM("stampmodel", stamp{})
	log.Fatal(p.Run())
}
