package main

import (
	"cmp"
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
//   - a user message "call NAME ARGS" asks once for the tool NAME with ARGS
//     verbatim as its arguments (to try unknown tools and bad arguments);
//   - tool_choice "tool" asks once for the tool it names;
//   - otherwise, when tools are offered (and tool_choice is not "none"), it
//     asks for tools in rounds: first for two (one when one is offered),
//     then for one more, the tools named in the user's message first, then
//     in the order offered; one tool offered is asked for once;
//   - after its last round it answers with what the tools answered;
//   - without tools it repeats the user's last message with a word count.
//
// The answer is streamed a few words at a time with delay_ms between chunks.
type chat struct{}

// InvokeLLM answers as described on chat.
func (chat) InvokeLLM(ctx context.Context, req *sdk.LLMRequest, w *sdk.LLMWriter) error {
	user := lastText(req.PromptMessages, sdk.RoleUser)
	if calls := toolCalls(req, user); len(calls) > 0 {
		names := make([]string, len(calls))
		for i, c := range calls {
			names[i] = c.Function.Name
		}
		if err := w.Text(demoLabel + " I will ask the tool " + strings.Join(names, " and the tool ") + "."); err != nil {
			return err
		}
		if err := w.ToolCalls(calls...); err != nil {
			return err
		}
		args := ""
		for _, c := range calls {
			args += c.Function.Arguments
		}
		return w.Finish(sdk.FinishToolCalls, usage(req, demoLabel+args))
	}
	answer := reply(req.PromptMessages, user)
	if err := streamWords(ctx, w, answer, delay(req)); err != nil {
		return err
	}
	return w.Finish(sdk.FinishStop, usage(req, answer))
}

// reply is the answer when no tool is to be called.
func reply(msgs []sdk.PromptMessage, user string) string {
	if results := toolResults(msgs); len(results) == 1 {
		return fmt.Sprintf("%s The tool answered: %s", demoLabel, results[0].text)
	} else if len(results) > 1 {
		parts := make([]string, len(results))
		for i, r := range results {
			parts[i] = r.name + ": " + r.text
		}
		return fmt.Sprintf("%s The tools answered: %s", demoLabel, strings.Join(parts, "; "))
	}
	if strings.TrimSpace(user) == "" {
		return demoLabel + " Say something and I will repeat it."
	}
	return fmt.Sprintf("%s You said: “%s” (%d words, %d characters).",
		demoLabel, user, len(strings.Fields(user)), len([]rune(user)))
}

// toolResult is a tool's answer in the conversation, with the tool's name
// from the call it answers.
type toolResult struct{ name, text string }

// toolResults are the tool results after the last user message, when the
// conversation ends with one.
func toolResults(msgs []sdk.PromptMessage) []toolResult {
	n := len(msgs)
	if n == 0 || msgs[n-1].Role != sdk.RoleTool {
		return nil
	}
	names := map[string]string{}
	var out []toolResult
	for _, m := range msgs[lastUser(msgs)+1:] {
		for _, c := range m.ToolCalls {
			names[c.ID] = c.Function.Name
		}
		if m.Role == sdk.RoleTool {
			out = append(out, toolResult{name: cmp.Or(names[m.ToolCallID], m.Name, "tool"), text: sdk.MessageText(m)})
		}
	}
	return out
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

// toolCalls are the calls to ask for this turn, if any (see chat).
func toolCalls(req *sdk.LLMRequest, user string) []sdk.ToolCall {
	msgs := req.PromptMessages
	if len(req.Tools) == 0 || (req.ToolChoice != nil && req.ToolChoice.Mode == sdk.ToolChoiceNone) {
		return nil
	}
	round := 0 // the assistant's tool-call turns since the user spoke
	for _, m := range msgs[lastUser(msgs)+1:] {
		if m.Role == sdk.RoleAssistant && len(m.ToolCalls) > 0 {
			round++
		}
	}
	id := func(i int) string {
		if i == 0 {
			return fmt.Sprintf("call_demo_%d", len(msgs))
		}
		return fmt.Sprintf("call_demo_%d_%d", len(msgs), i)
	}
	if name, args, ok := strings.Cut(user, " "); ok && name == "call" {
		if round > 0 {
			return nil
		}
		name, args, _ = strings.Cut(strings.TrimSpace(args), " ")
		return []sdk.ToolCall{{ID: id(0), Type: "function", Function: sdk.ToolCallFunction{Name: name, Arguments: args}}}
	}
	tools := ordered(req, user)
	var picked []sdk.PromptTool
	switch {
	case req.ToolChoice != nil && req.ToolChoice.Mode == sdk.ToolChoiceTool, len(tools) == 1:
		if round == 0 {
			picked = tools[:1]
		}
	case round == 0:
		picked = tools[:2]
	case round == 1:
		picked = []sdk.PromptTool{tools[2%len(tools)]}
	}
	calls := make([]sdk.ToolCall, 0, len(picked))
	for i, t := range picked {
		c, err := sdk.NewToolCall(id(i), t.Name, arguments(t, user))
		if err == nil { // a map of strings, numbers and booleans always encodes
			calls = append(calls, c)
		}
	}
	return calls
}

// ordered is the tools to pick from: the one tool_choice names alone, else
// those named in the user's message first, then the others as offered.
func ordered(req *sdk.LLMRequest, user string) []sdk.PromptTool {
	if tc := req.ToolChoice; tc != nil && tc.Mode == sdk.ToolChoiceTool {
		for _, t := range req.Tools {
			if t.Name == tc.Name {
				return []sdk.PromptTool{t}
			}
		}
	}
	var named, rest []sdk.PromptTool
	for _, t := range req.Tools {
		if strings.Contains(strings.ToLower(user), strings.ToLower(t.Name)) {
			named = append(named, t)
		} else {
			rest = append(rest, t)
		}
	}
	return append(named, rest...)
}

// lastUser is the index of the last user message (-1 when none).
func lastUser(msgs []sdk.PromptMessage) int {
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == sdk.RoleUser {
			return i
		}
	}
	return -1
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
