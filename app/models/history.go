package models

import (
	"context"
	"errors"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/store"
)

// openChat is the chat a request's turn is recorded in: the one it names,
// when it is the user's own, else a new one.
func (s *Service) openChat(ctx context.Context, req ChatRequest, r *Resolved, system string) (*store.Chat, error) {
	if req.ChatID != "" {
		c, err := s.store.FindChat(ctx, req.ChatID)
		if err == nil && c.UserID != req.User.ID {
			err = plugboard.Errorf(plugboard.ENOTFOUND, "You have no chat %q; start a new one.", req.ChatID)
		}
		return c, err
	}
	c := &store.Chat{UserID: req.User.ID, Username: req.User.Username, PluginID: r.PluginID, Provider: r.Provider,
		Model: r.Model, ModelLabel: r.Label, System: system}
	if err := s.store.CreateChat(ctx, c); err != nil {
		return nil, err
	}
	return c, nil
}

// recordTurn stores a turn in its chat, however it ended: done, stopped
// (ctx cancelled, or the caller stopped taking the answer) or failed with
// the error, already redacted. It writes even after ctx is cancelled; a
// store failure is logged, the answer having been given.
func (s *Service) recordTurn(ctx context.Context, call *chatCall, res *ChatResult, err error) {
	if call.chat == nil {
		return
	}
	r := call.r
	t := &store.ChatTurn{ChatID: call.chat.ID, PluginID: r.PluginID, Provider: r.Provider, Model: r.Model,
		Params: call.params, Message: call.message, Answer: res.Text, Status: store.ChatDone,
		FinishReason: res.FinishReason, First: res.First, Took: res.Took}
	var stopped errStopped
	switch {
	case err == nil:
	case ctx.Err() != nil || errors.As(err, &stopped):
		t.Status = store.ChatStopped
	default:
		t.Status, t.Error = store.ChatFailed, plugboard.ErrorMessage(err)
	}
	if u := res.Usage; u != nil {
		t.PromptTokens, t.CompletionTokens, t.TotalTokens = u.PromptTokens, u.CompletionTokens, u.TotalTokens
	}
	if p := res.Price; p != nil {
		t.Price, t.Currency = p.Total, p.Currency
	}
	if err := s.store.AppendChatTurn(context.WithoutCancel(ctx), t, r.Label, call.system); err != nil {
		s.log.Error("record chat turn", "chat", call.chat.ID, "err", err)
	}
}

// ChatList is one page of a chat history with the filters' options.
type ChatList struct {
	Chats []store.Chat
	Total int
	// All is true when the list is everyone's (the viewer is an admin).
	All    bool
	Models []store.ChatModel
	Users  []store.RunUser
}

// Chats lists the chats the filter selects that u may see: a member's own,
// everyone's for admins (who may filter by user).
func (s *Service) Chats(ctx context.Context, u *store.User, f store.ChatFilter) (*ChatList, error) {
	l := &ChatList{All: u.Role.AtLeast(store.RoleAdmin)}
	var facetsOf int64
	if !l.All {
		f.UserID, facetsOf = u.ID, u.ID
	}
	var err error
	if l.Chats, l.Total, err = s.store.FindChats(ctx, f); err != nil {
		return nil, err
	}
	if l.Models, l.Users, err = s.store.ChatFacets(ctx, facetsOf); err != nil {
		return nil, err
	}
	return l, nil
}

// FindChat returns a chat with its turns, when u may see it (their own,
// or any for an admin); not_found otherwise.
func (s *Service) FindChat(ctx context.Context, u *store.User, id string) (*store.Chat, []store.ChatTurn, error) {
	c, err := s.visibleChat(ctx, u, id)
	if err != nil {
		return nil, nil, err
	}
	turns, err := s.store.ChatTurns(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	return c, turns, nil
}

// visibleChat is the chat id when u may see it; not_found otherwise.
func (s *Service) visibleChat(ctx context.Context, u *store.User, id string) (*store.Chat, error) {
	c, err := s.store.FindChat(ctx, id)
	if err != nil {
		return nil, err
	}
	if c.UserID != u.ID && !u.Role.AtLeast(store.RoleAdmin) {
		return nil, plugboard.Errorf(plugboard.ENOTFOUND, "There is no chat %q.", id)
	}
	return c, nil
}

// DeleteChat removes a chat u may see, with its turns (not read first).
func (s *Service) DeleteChat(ctx context.Context, u *store.User, id string) error {
	if _, err := s.visibleChat(ctx, u, id); err != nil {
		return err
	}
	return s.store.DeleteChat(ctx, id)
}

// Resume is what continuing a recorded chat starts from: the model,
// system prompt and parameters of its latest turn and its answered turns;
// or, re-running one of its turns, that turn's model, parameters and
// message with the answered turns before it, in a new chat.
type Resume struct {
	// ChatID is the chat to add the next turns to: "" when it is not the
	// user's own (an admin's look at another's chat starts a new one) or a
	// turn is re-run.
	ChatID     string
	Model      ModelRef
	System     string
	Parameters map[string]any
	Turns      []ChatTurn
	// Message is the re-run turn's message, to send again.
	Message string
}

// Resume returns what continuing the chat id starts from (from 0), or
// re-running its turn from (1, 2, …), when u may see it.
func (s *Service) Resume(ctx context.Context, u *store.User, id string, from int) (*Resume, error) {
	c, turns, err := s.FindChat(ctx, u, id)
	if err != nil {
		return nil, err
	}
	if from < 0 || from > len(turns) {
		return nil, plugboard.Errorf(plugboard.ENOTFOUND, "Chat %q has no turn %d.", id, from)
	}
	r := &Resume{Model: ModelRef{PluginID: c.PluginID, Provider: c.Provider, ModelType: plugboard.ModelLLM, Model: c.Model, Label: c.ModelLabel},
		System: c.System}
	if c.UserID == u.ID && from == 0 {
		r.ChatID = c.ID
	}
	if from > 0 {
		t := turns[from-1]
		r.Model = ModelRef{PluginID: t.PluginID, Provider: t.Provider, ModelType: plugboard.ModelLLM, Model: t.Model}
		r.Parameters, r.Message, turns = t.Params, t.Message, turns[:from-1]
	} else if n := len(turns); n > 0 {
		r.Parameters = turns[n-1].Params
	}
	for _, t := range turns {
		if t.Status == store.ChatDone {
			r.Turns = append(r.Turns, ChatTurn{Role: "user", Text: t.Message}, ChatTurn{Role: "assistant", Text: t.Answer})
		}
	}
	return r, nil
}
