package agent

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/plugboard/plugboard/daemon/protocol"
	"github.com/plugboard/plugboard/store"
)

// reactPrompt is Dify's ReAct chat prompt (ENGLISH_REACT_CHAT_PROMPT_TEMPLATES):
// the tools are described in the prompt and the model answers with one
// JSON action at a time; "Observation" is a stop word.
const reactPrompt = `Respond to the human as helpfully and accurately as possible.

{{instruction}}

You have access to the following tools:

{{tools}}

Use a json blob to specify a tool by providing an action key (tool name) and an action_input key (tool input).
Valid "action" values: "Final Answer" or {{tool_names}}

Provide only ONE action per $JSON_BLOB, as shown:

` + "```" + `
{
  "action": $TOOL_NAME,
  "action_input": $ACTION_INPUT
}
` + "```" + `

Follow this format:

Question: input question to answer
Thought: consider previous and subsequent steps
Action:
` + "```" + `
$JSON_BLOB
` + "```" + `
Observation: action result
... (repeat Thought/Action/Observation N times)
Thought: I know what to respond
Action:
` + "```" + `
{
  "action": "Final Answer",
  "action_input": "Final response to human"
}
` + "```" + `

Begin! Reminder to ALWAYS respond with a valid json blob of a single action. Use tools if necessary. Respond directly if appropriate. Format is Action:` + "```$JSON_BLOB```" + `then Observation:.`

// react is Dify's chain-of-thought agent runner for models without tool
// calls: the scratchpad of thoughts, actions and observations goes back
// to the model as its own message until it gives a final answer (or text
// with no action, taken as the answer) or the iteration limit.
func (s *Service) react(lr *liveRun, p *prepared) outcome {
	var tools []string
	for _, name := range p.names {
		tools = append(tools, p.tools[name].describe())
	}
	names, _ := json.Marshal(p.names) // strings: always encodes
	system := strings.NewReplacer("{{instruction}}", p.spec.Instructions, "{{tools}}", strings.Join(tools, "\n"),
		"{{tool_names}}", string(names)).Replace(reactPrompt)
	var scratch strings.Builder
	var out outcome
	for n := 1; n <= p.spec.MaxIterations; n++ {
		msgs := p.opening(system)
		if scratch.Len() > 0 {
			msgs = append(msgs, protocol.PromptMessage{Role: protocol.RoleAssistant, Content: protocol.Content{Text: scratch.String()}},
				protocol.PromptMessage{Role: protocol.RoleUser, Content: protocol.Content{Text: "continue"}})
		}
		st := s.startStep(lr, n)
		res, err := s.turn(lr, p, st, msgs, nil, []string{"Observation"})
		if err != nil {
			return s.failStep(lr, p, st, out, err)
		}
		out.tokens += tokensOf(res)
		act, ok := parseAction(res.Text)
		if !ok || strings.EqualFold(act.name, "Final Answer") {
			s.endStep(lr, p, st)
			out.status, out.answer = store.RunDone, res.Text
			if ok {
				out.answer = act.input
			}
			return out
		}
		st.Calls = []*ToolCall{{ID: fmt.Sprintf("react_%d", n), Name: act.name, Arguments: act.input, Status: CallRunning}}
		if n == p.spec.MaxIterations {
			return s.limit(lr, p, st, out)
		}
		s.runCalls(lr, p, st)
		fmt.Fprintf(&scratch, "%s\nObservation: %s\n", strings.TrimSpace(res.Text), st.Calls[0].Observation)
		s.endStep(lr, p, st)
		if lr.ctx.Err() != nil {
			out.status, out.reason = store.RunCancelled, "Cancelled."
			return out
		}
	}
	return out // not reached: the last iteration answers or stops at the limit
}

// action is a ReAct action: the tool (or "Final Answer") and its input as
// JSON text (the final answer's text).
type action struct{ name, input string }

// parseAction finds the JSON action in a ReAct answer: in a ``` block,
// else from the first "{" to the last "}" (as Dify's CotAgentOutputParser).
func parseAction(text string) (action, bool) {
	blob := text
	if i := strings.Index(blob, "```"); i >= 0 {
		rest := blob[i+3:]
		rest = strings.TrimPrefix(rest, "json")
		if j := strings.Index(rest, "```"); j >= 0 {
			blob = rest[:j]
		}
	}
	i, j := strings.Index(blob, "{"), strings.LastIndex(blob, "}")
	if i < 0 || j < i {
		return action{}, false
	}
	var a struct {
		Action      string          `json:"action"`
		ActionInput json.RawMessage `json:"action_input"`
	}
	if json.Unmarshal([]byte(blob[i:j+1]), &a) != nil || a.Action == "" {
		return action{}, false
	}
	input := string(a.ActionInput)
	var str string
	if json.Unmarshal(a.ActionInput, &str) == nil {
		input = str // a string: the answer, or arguments written as JSON text
	}
	return action{name: a.Action, input: input}, true
}
