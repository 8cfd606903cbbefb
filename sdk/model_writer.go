package sdk

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plugboard/plugboard/daemon/protocol"
)

// Finish reasons of an LLM answer, the usual values of Dify's free string.
const (
	FinishStop      = "stop"
	FinishToolCalls = "tool_calls"
	FinishLength    = "length"
)

// errFinished is returned by LLMWriter writes after Finish.
var errFinished = errors.New("sdk: the LLM answer is already finished")

// LLMWriter sends an LLM's answer as Dify's LLMResultChunks: each Text or
// ToolCalls is one chunk with the next delta index, and Finish sends the
// last one with the usage and finish reason. When the handler returns
// without calling Finish, the SDK finishes with FinishStop (FinishToolCalls
// after tool calls) and a usage estimated with EstimateTokens. When the
// request asked for no stream, everything is sent as one chunk at the end.
// It is safe for concurrent use.
type LLMWriter struct {
	w      *Writer
	req    *LLMRequest
	start  time.Time
	stream bool

	mu       sync.Mutex
	index    int
	finished bool
	text     strings.Builder // the whole answer, for the estimate (and the chunk when not streaming)
	calls    []ToolCall      // tool calls sent, for the finish reason (and the chunk when not streaming)
}

func newLLMWriter(w *Writer, req *LLMRequest) *LLMWriter {
	return &LLMWriter{w: w, req: req, start: time.Now(), stream: req.Stream}
}

// Text sends a piece of the assistant's answer.
func (lw *LLMWriter) Text(s string) error {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	if lw.finished {
		return errFinished
	}
	lw.text.WriteString(s)
	if !lw.stream {
		return lw.w.check()
	}
	if err := lw.w.check(); err != nil {
		return err
	}
	index := lw.index
	lw.index++
	// A streamed piece goes out at once, never held for the end frame as a
	// quick handler's output is: an answer's first token is what its reader
	// waits for (held, it waited for the handoff timer, often over 1 ms).
	return lw.w.out.emit(nil, func(b []byte) []byte {
		b = append(b, `{"event":"session","session_id":`...)
		b = appendString(b, lw.w.session)
		b = append(b, `,"data":{"type":"stream","data":`...)
		b = appendTextChunk(b, lw.req.Model, index, s)
		return append(b, "}}\n"...)
	})
}

// appendTextChunk appends the chunk of one piece of text; its bytes are
// those json.Marshal writes for the same LLMChunk.
func appendTextChunk(b []byte, model string, index int, text string) []byte {
	b = append(b, `{"model":`...)
	b = appendString(b, model)
	b = append(b, `,"delta":{"index":`...)
	b = strconv.AppendInt(b, int64(index), 10)
	b = append(b, `,"message":{"role":"assistant","content":`...)
	b = appendString(b, text)
	return append(b, `}}}`...)
}

// ToolCalls sends complete tool calls the model asks for (Dify's SDK sends
// them whole, not in pieces).
func (lw *LLMWriter) ToolCalls(calls ...ToolCall) error {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	if lw.finished {
		return errFinished
	}
	lw.calls = append(lw.calls, calls...)
	if !lw.stream {
		return lw.w.check()
	}
	return lw.chunk(LLMDelta{Message: PromptMessage{Role: RoleAssistant, ToolCalls: calls}}, nil)
}

// Finish sends the last chunk: the finish reason ("" for FinishStop, or
// FinishToolCalls after tool calls) and the usage, whose latency is the
// time since the request came when it is zero. Later writes fail.
func (lw *LLMWriter) Finish(reason string, usage LLMUsage) error {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	if lw.finished {
		return errFinished
	}
	lw.finished = true
	if reason == "" {
		reason = FinishStop
		if len(lw.calls) > 0 {
			reason = FinishToolCalls
		}
	}
	if usage.Latency == 0 {
		usage.Latency = time.Since(lw.start).Seconds()
	}
	fillUsage(&usage)
	delta := LLMDelta{Message: PromptMessage{Role: RoleAssistant}, Usage: &usage, FinishReason: reason}
	if !lw.stream {
		delta.Message.Content.Text, delta.Message.ToolCalls = lw.text.String(), lw.calls
	}
	return lw.chunk(delta, lw.w.hold) // the last chunk may go out with the end frame
}

// chunk sends one chunk with the next index, held while hold is set (nil:
// at once); lw.mu is held.
func (lw *LLMWriter) chunk(delta LLMDelta, hold *atomic.Bool) error {
	if err := lw.w.check(); err != nil {
		return err
	}
	delta.Index = lw.index
	lw.index++
	payload, err := json.Marshal(LLMChunk{Model: lw.req.Model, Delta: delta})
	if err != nil {
		return err
	}
	return lw.w.out.emit(hold, func(b []byte) []byte {
		return appendSession(b, lw.w.session, protocol.SessionStream, payload)
	})
}

// close finishes an answer the handler left unfinished.
func (lw *LLMWriter) close() error {
	lw.mu.Lock()
	done := lw.finished
	lw.mu.Unlock()
	if done {
		return nil
	}
	prompt := 0
	for _, m := range lw.req.PromptMessages {
		prompt += EstimateTokens(MessageText(m))
	}
	return lw.Finish("", LLMUsage{PromptTokens: prompt, CompletionTokens: EstimateTokens(lw.text.String())})
}

// audioChunk is the most audio bytes one TTS chunk carries (hex doubles it).
const audioChunk = 32 << 10

// AudioWriter sends a TTS model's audio as chunks {"result": "<hex>"}, as
// Dify's SDK does, with the mime type when one is set. It is an io.Writer,
// so a body can be copied into it; each write is sent at once, in pieces of
// at most 32 KiB.
type AudioWriter struct {
	w    *Writer
	mime string
}

// SetMimeType sets the mime_type sent with the following chunks
// ("audio/mpeg", say).
func (aw *AudioWriter) SetMimeType(mime string) { aw.mime = mime }

// Write sends p as one or more audio chunks.
func (aw *AudioWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		piece := p[:min(len(p), audioChunk)]
		chunk := protocol.TTSChunk{Result: hex.EncodeToString(piece), MIMEType: aw.mime}
		if err := aw.w.raw(chunk); err != nil {
			return n, err
		}
		n += len(piece)
		p = p[len(piece):]
	}
	return n, nil
}
