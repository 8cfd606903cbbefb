package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/plugboard/plugboard/sdk"
)

// demoLabel starts every answer, so nobody mistakes the demo for a model.
const demoLabel = "Demo model — not a real LLM."

// defaultDelay is the pause between chunks when the request sets no delay_ms.
const defaultDelay = 40 * time.Millisecond

// chat is the demo LLM. Its answer depends only on the conversation:
//   - after a tool's result it reports what the tool answered;
//   - when tools are offered (and tool_choice is not "none") it asks for one:
//     the one tool_choice names, else the first whose name appears in the
//     user's message, else the first offered;
//   - otherwise it repeats the user's last message with a word count.
//
// The answer is streamed a few words at a time with delay_ms between chunks.
type chat struct{}

// InvokeLLM answers as described on chat.
func (chat) InvokeLLM(ctx context.Context, req *sdk.LLMRequest, w *sdk.LLMWriter) error {
	user := lastText(req.PromptMessages, sdk.RoleUser)
	if tool, ok := toolToCall(req, user); ok {
		call, err := sdk.NewToolCall(fmt.Sprintf("call_demo_%d", len(req.PromptMessages)), tool.Name, arguments(tool, user))
		if err != nil {
			return err
		}
		if err := w.Text(demoLabel + " I will ask the tool " + tool.Name + "."); err != nil {
			return err
		}
		if err := w.ToolCalls(call); err != nil {
			return err
		}
		return w.Finish(sdk.FinishToolCalls, usage(req, demoLabel+call.Function.Arguments))
	}
	answer := reply(req.PromptMessages, user)
	if err := streamWords(ctx, w, answer, delay(req)); err != nil {
		return err
	}
	return w.Finish(sdk.FinishStop, usage(req, answer))
}

// reply is the answer when no tool is to be called.
func reply(msgs []sdk.PromptMessage, user string) string {
	if n := len(msgs); n > 0 && msgs[n-1].Role == sdk.RoleTool {
		return fmt.Sprintf("%s The tool answered: %s", demoLabel, sdk.MessageText(msgs[n-1]))
	}
	if strings.TrimSpace(user) == "" {
		return demoLabel + " Say something and I will repeat it."
	}
	return fmt.Sprintf("%s You said: “%s” (%d words, %d characters).",
		demoLabel, user, len(strings.Fields(user)), len([]rune(user)))
}

// streamWords sends text three words a chunk, pausing between chunks; a
// cancelled call stops at once.
func streamWords(ctx context.Context, w *sdk.LLMWriter, text string, pause time.Duration) error {
	words := strings.SplitAfter(text, " ")
	for i := 0; i < len(words); i += 3 {
		if i > 0 && pause > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(pause):
			}
		}
		if err := w.Text(strings.Join(words[i:min(i+3, len(words))], "")); err != nil {
			return err
		}
	}
	return nil
}

// toolToCall picks the tool to ask for, if any. A conversation whose last
// message is a tool's result gets an answer, not another call.
func toolToCall(req *sdk.LLMRequest, user string) (sdk.PromptTool, bool) {
	n := len(req.PromptMessages)
	if len(req.Tools) == 0 || (n > 0 && req.PromptMessages[n-1].Role == sdk.RoleTool) {
		return sdk.PromptTool{}, false
	}
	if tc := req.ToolChoice; tc != nil {
		switch tc.Mode {
		case sdk.ToolChoiceNone:
			return sdk.PromptTool{}, false
		case sdk.ToolChoiceTool:
			for _, t := range req.Tools {
				if t.Name == tc.Name {
					return t, true
				}
			}
		}
	}
	for _, t := range req.Tools {
		if strings.Contains(strings.ToLower(user), strings.ToLower(t.Name)) {
			return t, true
		}
	}
	return req.Tools[0], true
}

// arguments fills the tool's parameters from its JSON schema: every string
// property gets the user's message, numbers 1, booleans true.
func arguments(tool sdk.PromptTool, user string) map[string]any {
	args := map[string]any{}
	props, _ := tool.Parameters["properties"].(map[string]any)
	for name, p := range props {
		schema, _ := p.(map[string]any)
		switch schema["type"] {
		case "number", "integer":
			args[name] = 1
		case "boolean":
			args[name] = true
		case "string", nil:
			args[name] = user
		}
	}
	return args
}

// lastText is the text of the last message with the given role.
func lastText(msgs []sdk.PromptMessage, role string) string {
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == role {
			return strings.TrimSpace(sdk.MessageText(msgs[i]))
		}
	}
	return ""
}

// delay is the request's delay_ms, or the default.
func delay(req *sdk.LLMRequest) time.Duration {
	ms, ok := req.ModelParameters["delay_ms"].(float64)
	if !ok || ms < 0 {
		return defaultDelay
	}
	return time.Duration(min(ms, 1000)) * time.Millisecond
}

// usage counts the prompt and the answer with the SDK's estimate; the demo
// is free.
func usage(req *sdk.LLMRequest, answer string) sdk.LLMUsage {
	prompt := 0
	for _, m := range req.PromptMessages {
		prompt += sdk.EstimateTokens(sdk.MessageText(m))
	}
	return sdk.LLMUsage{PromptTokens: prompt, CompletionTokens: sdk.EstimateTokens(answer)}
}
