package callback

import (
	"context"
	"fmt"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/innerapi"
	"github.com/plugboard/plugboard/daemon/runtime"
)

// kind is how one type of call back is answered: Dify's permission gate
// and its message, the request's required fields, and either a local
// answer (storage) or the inner API's path and the words Dify's daemon puts
// before an error of the call and of reading its stream.
type kind struct {
	allowed  func(plugboard.Permission) bool
	denied   string
	required []string
	local    func(ctx context.Context, s *Service, cb *runtime.CallBack, r runtime.Reply) error

	path       string
	failed     string   // "invoke llm model failed"
	readFailed string   // "read llm model failed" (streams)
	result     []string // members a unary result must have
}

func denied(what string) string {
	return "permission denied, you need to enable " + what + " access in plugin manifest"
}

var (
	llmAllowed = func(p plugboard.Permission) bool { return p.Model && p.LLM }
	model      = []string{"provider", "model"}
)

// kinds is Dify's permission table and dispatch table in one, by type. A
// type missing here (encrypt, the multimodal ones) is "unsupported", as in
// Dify's table.
var kinds = map[string]kind{
	"tool": {allowed: func(p plugboard.Permission) bool { return p.Tool }, denied: denied("tool"),
		required: []string{"tool_type", "provider", "tool"},
		path:     innerapi.PathTool, failed: "invoke tool failed", readFailed: "read tool response failed"},
	"llm": {allowed: llmAllowed, denied: denied("llm"), required: append(model, "mode"),
		path: innerapi.PathLLM, failed: "invoke llm model failed", readFailed: "read llm model failed"},
	"llm_structured_output": {allowed: llmAllowed, denied: denied("llm"),
		required: append(model, "mode", "structured_output_schema"), path: innerapi.PathLLMStructuredOutput,
		failed: "invoke llm with structured output model failed", readFailed: "read llm with structured output model failed"},
	"text_embedding": {allowed: func(p plugboard.Permission) bool { return p.Model && p.Embed }, denied: denied("text-embedding"),
		required: append(model, "texts", "input_type"), path: innerapi.PathTextEmbedding,
		failed: "invoke text-embedding model failed", result: []string{"model", "embeddings"}},
	"rerank": {allowed: func(p plugboard.Permission) bool { return p.Model && p.Rerank }, denied: denied("rerank"),
		required: append(model, "query", "docs"), path: innerapi.PathRerank,
		failed: "invoke rerank model failed", result: []string{"model", "docs"}},
	"tts": {allowed: func(p plugboard.Permission) bool { return p.Model && p.TTS }, denied: denied("tts"),
		required: append(model, "content_text", "voice"), path: innerapi.PathTTS,
		failed: "invoke tts model failed", readFailed: "read tts model failed"},
	"speech2text": {allowed: func(p plugboard.Permission) bool { return p.Model && p.STT }, denied: denied("speech2text"),
		required: append(model, "file"), path: innerapi.PathSpeech2Text,
		failed: "invoke speech2text model failed", result: []string{"result"}},
	"moderation": {allowed: func(p plugboard.Permission) bool { return p.Model && p.Moderate }, denied: denied("moderation"),
		required: append(model, "text"), path: innerapi.PathModeration,
		failed: "invoke moderation model failed", result: []string{"result"}},
	"app": {allowed: func(p plugboard.Permission) bool { return p.App }, denied: denied("app"),
		required: []string{"app_id"}, path: innerapi.PathApp, failed: "invoke app failed", readFailed: "read app failed"},
	"fetch_app": {allowed: func(p plugboard.Permission) bool { return p.App }, denied: denied("app"),
		required: []string{"app_id"}, path: innerapi.PathFetchApp, failed: "fetch app failed"},
	"node_parameter_extractor": {allowed: func(p plugboard.Permission) bool { return p.Node }, denied: denied("node"),
		required: []string{"parameters", "model", "query"}, path: innerapi.PathParameterExtractor,
		failed: "invoke parameter extractor failed"},
	"node_question_classifier": {allowed: func(p plugboard.Permission) bool { return p.Node }, denied: denied("node"),
		required: []string{"classes", "model", "query"}, path: innerapi.PathQuestionClassifier,
		failed: "invoke question classifier failed"},
	"storage": {allowed: func(p plugboard.Permission) bool { return p.Storage }, denied: denied("storage"),
		required: []string{"opt", "key"}, local: storage},
	"system_summary": {allowed: llmAllowed, denied: denied("llm"), required: []string{"text"},
		path: innerapi.PathSummary, failed: "invoke summary failed", result: []string{"summary"}},
	"upload_file": {allowed: func(plugboard.Permission) bool { return true }, denied: denied("storage"),
		required: []string{"filename", "mimetype"}, path: innerapi.PathUploadFile,
		failed: "upload file failed", result: []string{"url"}},
}

// check reports the first required field of req that is missing, null or
// an empty text (what Dify's validator calls required).
func (k kind) check(req map[string]any) error {
	for _, f := range k.required {
		v, ok := req[f]
		if s, isText := v.(string); !ok || v == nil || isText && s == "" {
			return fmt.Errorf("field %s is required", f)
		}
	}
	return nil
}
