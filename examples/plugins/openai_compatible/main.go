// Command openai_compatible is the example customizable-model provider for
// any server that speaks OpenAI's API (Ollama, vLLM, llama.cpp server, LM
// Studio, OpenAI): a user adds a model by name with the server's base URL,
// an optional API key, its context size and features, and chats with it
// (streamed, with function calling), embeds texts and reranks documents.
// The server's 401, 429 and 5xx answers reach the user as Dify's
// InvokeAuthorizationError, InvokeRateLimitError and
// InvokeServerUnavailableError with the server's own message.
package main

import (
	"context"
	"log"
	"net/http"

	"github.com/plugboard/plugboard/sdk"
)

const provider = "openai_compatible"

func main() {
	log.Fatal(newPlugin(http.DefaultTransport).Run())
}

// newPlugin registers the provider's model types; their requests go out
// through transport.
func newPlugin(transport http.RoundTripper) *sdk.Plugin {
	cl := &upstream{http: &http.Client{Transport: transport}}
	p := sdk.New()
	p.LLM(provider, &chat{cl})
	p.TextEmbedding(provider, &embedder{cl})
	p.Rerank(provider, &reranker{cl})
	// The provider has no credentials of its own: each model carries its
	// server's, checked by validate_model_credentials.
	p.ValidateProviderCredentials(provider, func(context.Context, sdk.Credentials) error { return nil })
	return p
}
