// Package innerapi is the contract between the daemon and the platform's
// inner API, the HTTP API a plugin's calls back (Dify's "backwards
// invocation") are forwarded to: the paths, the headers, the reply envelope
// and the length-prefixed framing of streamed replies, all as Dify's daemon
// and API speak them, so Plugboard's daemon can be pointed at Dify's API and
// Plugboard's app can answer Dify's daemon.
//
// It imports only the standard library: the daemon's runtime writes requests
// with it and the admin app's inner API answers with it.
package innerapi

import (
	"encoding/json"
)

// Prefix is where the inner API's paths live under the platform's base URL:
// a call back is POST {PlatformURL}/inner/api/<path>.
const Prefix = "/inner/api/"

// Paths of the inner API, relative to Prefix, exactly as Dify's daemon asks
// them. Stream marks which ones answer with a length-prefixed stream.
const (
	PathLLM                 = "invoke/llm"
	PathLLMStructuredOutput = "invoke/llm/structured-output"
	PathTextEmbedding       = "invoke/text-embedding"
	PathRerank              = "invoke/rerank"
	PathTTS                 = "invoke/tts"
	PathSpeech2Text         = "invoke/speech2text"
	PathModeration          = "invoke/moderation"
	PathTool                = "invoke/tool"
	PathApp                 = "invoke/app"
	PathParameterExtractor  = "invoke/parameter-extractor"
	PathQuestionClassifier  = "invoke/question-classifier"
	PathSummary             = "invoke/summary"
	PathUploadFile          = "upload/file/request"
	PathFetchApp            = "fetch/app/info"
)

// Headers of a call back. HeaderKey is Dify's; the others are Plugboard's
// own, which Dify's API ignores.
const (
	// HeaderKey carries the shared key that authenticates the daemon.
	HeaderKey = "X-Inner-Api-Key"
	// HeaderPlugin names the calling plugin (its plugin_id, author/name).
	HeaderPlugin = "X-Plugboard-Plugin"
	// HeaderCallDepth is how deep in calls back the request is: 1 for a call
	// made by a plugin a user or agent invoked directly. The app passes it on
	// to the daemon's invoke API when it invokes a tool for invoke/tool.
	HeaderCallDepth = "X-Plugboard-Call-Depth"
)

// MaxCallDepth is the deepest call back the daemon makes.
const MaxCallDepth = 5

// Streamed reports whether the inner API answers path with a
// length-prefixed stream of envelopes (else one JSON envelope).
func Streamed(path string) bool {
	switch path {
	case PathLLM, PathLLMStructuredOutput, PathTTS, PathTool, PathApp:
		return true
	}
	return false
}

// Response is the inner API's envelope: a unary reply's whole body, and each
// frame of a stream. A failure has a null Data and the message in Error.
type Response struct {
	Data  json.RawMessage `json:"data"`
	Error string          `json:"error"`
}

// Failed reports whether the envelope carries an error rather than data.
func (r Response) Failed() bool { return r.Error != "" }

// HasData reports whether the envelope carries data (not absent, not null).
func (r Response) HasData() bool {
	return len(r.Data) > 0 && string(r.Data) != "null"
}

// DataFrame encodes v as an envelope's data, the payload of a stream frame
// or a unary reply's body.
func DataFrame(v any) ([]byte, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return json.Marshal(Response{Data: data})
}

// ErrorFrame encodes a failure envelope: null data and the message.
func ErrorFrame(message string) []byte {
	b, _ := json.Marshal(Response{Data: json.RawMessage("null"), Error: message})
	return b
}
