package models

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard"
	appmodels "github.com/plugboard/plugboard/app/models"
	"github.com/plugboard/plugboard/daemon/sse"
	"github.com/plugboard/plugboard/views"
	"github.com/plugboard/plugboard/web/page"
)

// chatPage is the model playground's chat: an LLM picker (the default
// preselected), a system prompt and the conversation, streamed by
// static/js/models_chat.js from chatStream.
func (h *Handlers) chatPage(c echo.Context) error {
	ch := h.Chrome(c, "Chat · Models", views.NavModels)
	var problem string
	providers, err := h.models.Providers(page.Ctx(c))
	if err != nil {
		problem = page.DaemonProblem(err)
	}
	defs, err := h.models.Defaults(page.Ctx(c))
	if err != nil {
		return err
	}
	var llms []views.ModelOption
	for _, r := range appmodels.Models(providers, plugboard.ModelLLM) {
		llms = append(llms, views.ModelOption{Key: r.Key(), Label: r.Label})
	}
	current := ""
	if d, ok := defs[plugboard.ModelLLM]; ok {
		current = appmodels.ModelRef{PluginID: d.PluginID, Provider: d.Provider, Model: d.Model}.Key()
	}
	if k := c.QueryParam("model"); k != "" {
		current = k
	}
	return page.Render(c, http.StatusOK, views.ModelChatPage(ch, llms, current, problem))
}

// chatDone is the stream's last event: how the answer ended.
type chatDone struct {
	FinishReason string `json:"finish_reason"`
	TotalTokens  int    `json:"total_tokens"`
	TotalPrice   string `json:"total_price"`
	Currency     string `json:"currency"`
	TookMS       int64  `json:"took_ms"`
}

// chatStream answers one chat turn as an event stream: "text" events (a
// JSON string each) as the model writes, then "done" (chatDone) or
// "error" (a JSON string). The form holds model (a ModelRef key), system
// and turns (JSON, the conversation ending with the user's message).
func (h *Handlers) chatStream(c echo.Context) error {
	ref, ok := appmodels.ParseKey(plugboard.ModelLLM, c.FormValue("model"))
	if !ok {
		return plugboard.Errorf(plugboard.EINVALID, "Pick a model.")
	}
	var turns []appmodels.ChatTurn
	if err := json.Unmarshal([]byte(c.FormValue("turns")), &turns); err != nil {
		return plugboard.Errorf(plugboard.EINVALID, "The conversation is not readable: %v", err)
	}
	var params map[string]any
	if t := c.FormValue("max_tokens"); t != "" {
		if n, err := strconv.Atoi(t); err == nil && n > 0 {
			params = map[string]any{"max_tokens": n}
		}
	}
	w := sse.Start(c.Response())
	send := func(name string, v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if err := w.Event("", name, b); err != nil {
			return err
		}
		return w.Flush()
	}
	res, err := h.models.Chat(page.Ctx(c), page.Actor(c), appmodels.ChatRequest{Model: ref, System: c.FormValue("system"),
		Turns: turns, Parameters: params}, func(text string) error { return send("text", text) })
	if err != nil {
		return send("error", plugboard.ErrorMessage(err))
	}
	done := chatDone{FinishReason: res.FinishReason, TookMS: res.Took.Milliseconds()}
	if u := res.Usage; u != nil {
		done.TotalTokens, done.TotalPrice, done.Currency = u.TotalTokens, string(u.TotalPrice), u.Currency
	}
	return send("done", done)
}
