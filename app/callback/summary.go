package callback

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/app/models"
	"github.com/plugboard/plugboard/daemon/protocol"
)

// MinSummaryLength is the shortest text that is summarised (in
// characters, Dify's SDK's min_summarize_length): a shorter one comes back
// as it is, without asking a model.
const MinSummaryLength = 1024

// summaryPrompt is the system prompt of each piece's summary, as Dify's
// inner API asks its system model; the instruction is the plugin's.
const summaryPrompt = `You are a professional language researcher, you are interested in the language
and you can quickly aimed at the main point of an webpage and reproduce it in your own words but
retain the original meaning and keep the key points.
however, the text you got is too long, what you got is possible a part of the text.
Please summarize the text you got.

Here is the extra instruction you need to follow:
<extra_instruction>
{instruction}
</extra_instruction>
`

// summaryRounds bounds how often a summary that is itself too long is
// summarised again.
const summaryRounds = 3

// defaultContext is the context size assumed of a model that declares none.
const defaultContext = 4096

// summary shortens a text with the workspace's default LLM (Dify's
// {"summary": text}).
func (s *Service) summary(ctx context.Context, c *Call, emit func(any) error) (string, error) {
	var req struct {
		base
		Text        string `json:"text"`
		Instruction string `json:"instruction"`
	}
	if err := decode(c, &req); err != nil {
		return "", err
	}
	if utf8.RuneCountInString(req.Text) < MinSummaryLength {
		return "", emit(map[string]string{"summary": req.Text})
	}
	r, err := s.cfg.Models.Default(ctx, plugboard.ModelLLM)
	if err != nil {
		return "", plugboard.Errorf(plugboard.ErrorCode(err), "A summary needs the workspace's default LLM: %s", plugboard.ErrorMessage(err))
	}
	target := r.PluginID + "/" + r.Provider + " " + r.Model
	text := req.Text
	for round := 0; round < summaryRounds; round++ {
		if text, err = s.summarise(ctx, r, req.UserID, text, req.Instruction); err != nil {
			return target, err
		}
		if utf8.RuneCountInString(text) <= pieceLength(r) {
			break
		}
	}
	return target, emit(map[string]string{"summary": text})
}

// pieceLength is how many characters of text one summary call takes: half
// the model's context, at about four characters a token, as Dify splits.
func pieceLength(r *models.Resolved) int {
	size := defaultContext
	if r.Declaration != nil {
		switch v := r.Declaration.ModelProperties["context_size"].(type) {
		case int:
			size = v
		case float64:
			size = int(v)
		}
	}
	return max(size/2*4, 1024)
}

// summarise summarises text piece by piece (pieces of whole lines where
// they fit) and joins the pieces' summaries with newlines.
func (s *Service) summarise(ctx context.Context, r *models.Resolved, user, text, instruction string) (string, error) {
	system := strings.ReplaceAll(summaryPrompt, "{instruction}", instruction)
	var out []string
	for _, piece := range pieces(text, pieceLength(r)) {
		var b strings.Builder
		req := &llmRequest{modelBase: modelBase{base: base{UserID: user}}}
		msgs := []protocol.PromptMessage{
			{Role: protocol.RoleSystem, Content: protocol.Content{Text: system}},
			{Role: protocol.RoleUser, Content: protocol.Content{Text: piece}},
		}
		if err := s.streamLLM(ctx, r, req, msgs, func(ch *protocol.LLMResultChunk) error {
			b.WriteString(chunkText(ch))
			return nil
		}); err != nil {
			return "", err
		}
		out = append(out, b.String())
	}
	return strings.Join(out, "\n"), nil
}

// pieces splits text into pieces of at most n characters, joining whole
// non-blank lines (by newlines) while they fit and cutting a longer line.
func pieces(text string, n int) []string {
	var out []string
	var cur []rune
	for _, line := range strings.Split(text, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		rs := []rune(line)
		for len(rs) > n {
			if len(cur) > 0 {
				out, cur = append(out, string(cur)), nil
			}
			out, rs = append(out, string(rs[:n])), rs[n:]
		}
		if len(cur) > 0 && len(cur)+1+len(rs) > n {
			out, cur = append(out, string(cur)), nil
		}
		if len(cur) > 0 {
			cur = append(cur, '\n')
		}
		cur = append(cur, rs...)
	}
	if len(cur) > 0 {
		out = append(out, string(cur))
	}
	return out
}
