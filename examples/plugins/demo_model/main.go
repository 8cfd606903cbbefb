// Command demo_model is the example model provider that needs no server: a
// deterministic stand-in, clearly labelled "not a real LLM", whose chat
// model streams a canned answer in several chunks and asks for a tool when
// tools are offered, with word-hash embeddings and a word-overlap rerank —
// enough to show streaming, tool calls, embeddings and rerank offline. Its
// speech models are a tone code: TTS writes the text as tones in a WAV, and
// speech-to-text hears them back; moderation flags words from a short list.
package main

import (
	"log"

	"github.com/plugboard/plugboard/sdk"
)

const provider = "demo_model"

func main() {
	log.Fatal(newPlugin().Run())
}

// newPlugin registers the provider's models.
func newPlugin() *sdk.Plugin {
	p := sdk.New()
	p.LLM(provider, chat{})
	p.TextEmbedding(provider, embedding{})
	p.Rerank(provider, rerank{})
	p.TTS(provider, tts{})
	p.Speech2Text(provider, speech2text{})
	p.Moderation(provider, moderation{})
	return p
}
