package models

import (
	"cmp"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

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
		o := views.ModelOption{Key: r.Key(), Label: r.Label}
		if d := declaration(providers, r); d != nil {
			o.Rules = d.ParameterRules
		}
		llms = append(llms, o)
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
	params, err := h.chatParams(c, ref)
	if err != nil {
		return err
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

// chatParams reads the model's parameters from the form (p_<name>), typed
// by its parameter rules; one left empty is not sent, so the model's
// default applies.
func (h *Handlers) chatParams(c echo.Context, ref appmodels.ModelRef) (map[string]any, error) {
	params := map[string]any{}
	p, err := h.models.Provider(page.Ctx(c), ref.PluginID, ref.Provider)
	if err != nil {
		return nil, err
	}
	d := p.Decl.Find(plugboard.ModelLLM, ref.Model)
	if d == nil {
		return params, nil
	}
	for _, r := range d.ParameterRules {
		v := strings.TrimSpace(c.FormValue(views.ChatParamName(r.Name)))
		if v == "" {
			continue
		}
		label := cmp.Or(r.Label.English(), r.Name)
		switch r.Type {
		case plugboard.RuleInt:
			n, err := strconv.Atoi(v)
			if err != nil {
				return nil, plugboard.Errorf(plugboard.EINVALID, "%s must be a whole number.", label)
			}
			params[r.Name] = n
		case plugboard.RuleFloat:
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return nil, plugboard.Errorf(plugboard.EINVALID, "%s must be a number.", label)
			}
			params[r.Name] = f
		case plugboard.RuleBoolean:
			params[r.Name] = v == "true"
		default:
			params[r.Name] = v
		}
	}
	return params, nil
}
