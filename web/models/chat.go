package models

import (
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard"
	appmodels "github.com/plugboard/plugboard/app/models"
	"github.com/plugboard/plugboard/daemon/sse"
	"github.com/plugboard/plugboard/views"
	"github.com/plugboard/plugboard/web/page"
)

// chatPage is the model playground's chat: an LLM picker (the default
// preselected), each LLM's parameter form (a customizable model's from its
// schema), a system prompt and the conversation, streamed by
// static/js/models_chat.js from chatStream. ?chat=ID continues one of the
// user's chats (another's, for an admin, starts a new chat from it):
// its model, system prompt, parameters and answered turns filled in;
// with &from=N, a new chat re-runs its turn N (its message filled in).
func (h *Handlers) chatPage(c echo.Context) error {
	ctx := page.Ctx(c)
	ch := h.Chrome(c, "Chat · Models", views.NavModels)
	d := views.ChatPageData{}
	providers, err := h.models.Providers(ctx)
	if err != nil {
		d.Problem = page.DaemonProblem(err)
	}
	defs, err := h.models.Defaults(ctx)
	if err != nil {
		return err
	}
	if def, ok := defs[plugboard.ModelLLM]; ok {
		d.Current = appmodels.ModelRef{PluginID: def.PluginID, Provider: def.Provider, Model: def.Model}.Key()
	}
	if k := c.QueryParam("model"); k != "" {
		d.Current = k
	}
	var values map[string]any
	if id := c.QueryParam("chat"); id != "" {
		from := 0
		if f := c.QueryParam("from"); f != "" {
			n, err := strconv.Atoi(f)
			if err != nil || n < 1 {
				return plugboard.Errorf(plugboard.EINVALID, "from=%q is not a turn number (1, 2, …).", f)
			}
			from = n
		}
		r, err := h.models.Resume(ctx, page.CurrentUser(c), id, from)
		if err != nil {
			return err
		}
		d.ChatID, d.Current, d.System, d.Turns, d.Message, values = r.ChatID, r.Model.Key(), r.System, r.Turns, r.Message, r.Parameters
	}
	for _, r := range appmodels.Models(providers, plugboard.ModelLLM) {
		o := views.ModelOption{Key: r.Key(), Label: r.Label}
		if decl := declaration(providers, r); decl != nil {
			o.Rules = decl.ParameterRules
		} else if decl, err := h.models.Schema(ctx, page.Actor(c), r); err == nil && decl != nil {
			o.Rules = decl.ParameterRules // a customizable model's, from the plugin
		}
		if o.Key == d.Current {
			o.Values = values
		}
		d.LLMs = append(d.LLMs, o)
	}
	return page.Render(c, http.StatusOK, views.ModelChatPage(ch, d))
}

// chatDone is the stream's last event: how the answer ended.
type chatDone struct {
	Chat         string `json:"chat,omitempty"`
	FinishReason string `json:"finish_reason"`
	TotalTokens  int    `json:"total_tokens"`
	// Price is "" when the model is not priced; Computed when Plugboard
	// priced the usage from the model's declared pricing.
	Price    string `json:"price"`
	Currency string `json:"currency"`
	Computed bool   `json:"price_computed"`
	// FirstMS and TookMS are milliseconds to the answer's first piece and
	// to its end, to a tenth.
	FirstMS float64 `json:"first_ms"`
	TookMS  float64 `json:"took_ms"`
}

// millis is d in milliseconds, to a tenth.
func millis(d time.Duration) float64 { return math.Round(float64(d.Microseconds())/100) / 10 }

// chatStream answers one chat turn as an event stream: "chat" (the
// recorded chat's id, a JSON string), "text" events (a JSON string each)
// as the model writes, then "done" (chatDone) or "error" (a JSON string).
// The form holds model (a ModelRef key), system, turns (JSON, the
// conversation ending with the user's message), chat (the id of the chat
// to continue, optional) and the parameters (p_<name>).
func (h *Handlers) chatStream(c echo.Context) error {
	ref, ok := appmodels.ParseKey(plugboard.ModelLLM, c.FormValue("model"))
	if !ok {
		return plugboard.Errorf(plugboard.EINVALID, "Pick a model.")
	}
	var turns []appmodels.ChatTurn
	if err := json.Unmarshal([]byte(c.FormValue("turns")), &turns); err != nil {
		return plugboard.Errorf(plugboard.EINVALID, "The conversation is not readable: %v", err)
	}
	form, err := c.FormParams()
	if err != nil {
		return plugboard.Errorf(plugboard.EINVALID, "The form is not readable: %v", err)
	}
	raw := map[string]string{}
	for k, v := range form {
		if name, ok := strings.CutPrefix(k, views.ChatParamName("")); ok && len(v) > 0 {
			raw[name] = v[0]
		}
	}
	w := sse.Start(c.Response())
	// The headers go out now, so the page is already reading the body, not
	// waiting for the response, when the first piece comes.
	if err := w.Flush(); err != nil {
		return nil // the client went away: nobody is left to answer
	}
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
		Turns: turns, RawParameters: raw, User: page.CurrentUser(c), ChatID: c.FormValue("chat"),
		OnChat: func(id string) error { return send("chat", id) }},
		func(text string) error { return send("text", text) })
	if err != nil {
		return send("error", plugboard.ErrorMessage(err))
	}
	done := chatDone{Chat: res.ChatID, FinishReason: res.FinishReason, FirstMS: millis(res.First), TookMS: millis(res.Took)}
	if u := res.Usage; u != nil {
		done.TotalTokens = u.TotalTokens
	}
	if p := res.Price; p != nil {
		done.Price, done.Currency, done.Computed = p.Total, p.Currency, p.Computed
	}
	return send("done", done)
}

// declaration is a predefined model's declaration among providers (nil for
// a customizable model).
func declaration(providers []*appmodels.Provider, r appmodels.ModelRef) *plugboard.ModelDeclaration {
	for _, p := range providers {
		if p.PluginID == r.PluginID && p.Name() == r.Provider {
			return p.Decl.Find(r.ModelType, r.Model)
		}
	}
	return nil
}
