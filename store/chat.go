package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/plugboard/plugboard"
)

// Chat turn statuses.
const (
	ChatDone    = "done"
	ChatFailed  = "failed"
	ChatStopped = "stopped"
)

// Chat is one conversation of the model playground, as its history lists
// it: the model and system prompt of its latest turn and its totals.
type Chat struct {
	ID       string
	UserID   int64
	Username string
	PluginID string
	Provider string
	Model    string
	// ModelLabel is the model's label with its provider's, as picked.
	ModelLabel string
	System     string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	// Turns counts the turns; TotalTokens and TotalPrice (a decimal, in
	// Currency; "" when no turn had a price, or their currencies differ)
	// add them up.
	Turns       int
	TotalTokens int
	TotalPrice  string
	Currency    string
	// LastStatus, LastFirst and LastTook are the latest turn's status, time
	// to its first piece of answer and time to its end.
	LastStatus string
	LastFirst  time.Duration
	LastTook   time.Duration
}

// ModelKey names the chat's latest model as the chat's picker does
// (plugin id, provider, model joined by "|").
func (c *Chat) ModelKey() string { return c.PluginID + "|" + c.Provider + "|" + c.Model }

// ChatTurn is one turn of a chat: the user's message and the model's
// answer, with how it ended.
type ChatTurn struct {
	ChatID   string
	Seq      int // 1, 2, …
	PluginID string
	Provider string
	Model    string
	// Params are the model parameters the turn was sent with.
	Params  map[string]any
	Message string
	// Answer is the model's text, secrets redacted; partial when the turn
	// was stopped or failed.
	Answer       string
	Status       string // ChatDone, ChatFailed or ChatStopped
	Error        string
	FinishReason string
	// Tokens as the model counted them.
	PromptTokens, CompletionTokens, TotalTokens int
	// Price is a decimal in Currency, "" when unknown.
	Price     string
	Currency  string
	First     time.Duration // to the answer's first piece (0: none came)
	Took      time.Duration // to the answer's end
	CreatedAt time.Time
}

// ModelKey names the turn's model as the chat's picker does.
func (t *ChatTurn) ModelKey() string { return t.PluginID + "|" + t.Provider + "|" + t.Model }

// ChatFilter selects chats; a zero field selects all.
type ChatFilter struct {
	UserID int64
	// Model is a ModelKey.
	Model string
	// Query matches the model, the user, the system prompt, or a turn's
	// message, answer or error.
	Query  string
	Offset int
	Limit  int // 0: 100
}

// ChatModel is a model that chats were held with.
type ChatModel struct{ Key, Label string }

const chatColumns = `id, user_id, username, plugin_id, provider, model, model_label, system, created_at, updated_at,
	turns, total_tokens, total_price, currency, last_status, last_first_us, last_took_us`

func scanChat(s scanner) (*Chat, error) {
	var c Chat
	var created, updated, first, took int64
	err := s.Scan(&c.ID, &c.UserID, &c.Username, &c.PluginID, &c.Provider, &c.Model, &c.ModelLabel, &c.System,
		&created, &updated, &c.Turns, &c.TotalTokens, &c.TotalPrice, &c.Currency, &c.LastStatus, &first, &took)
	if err != nil {
		return nil, err
	}
	c.CreatedAt, c.UpdatedAt = fromUnixNano(created), fromUnixNano(updated)
	c.LastFirst, c.LastTook = time.Duration(first)*time.Microsecond, time.Duration(took)*time.Microsecond
	return &c, nil
}

// CreateChat records a new chat with no turns yet; it fills c.ID,
// CreatedAt and UpdatedAt.
func (db *DB) CreateChat(ctx context.Context, c *Chat) error {
	if c.PluginID == "" || c.Provider == "" || c.Model == "" {
		return plugboard.Errorf(plugboard.EINVALID, "a chat needs a plugin, a provider and a model")
	}
	c.ID, c.CreatedAt = newRunID(), db.Now().UTC()
	c.UpdatedAt = c.CreatedAt
	_, err := db.write.ExecContext(ctx, `INSERT INTO chats (id, user_id, username, plugin_id, provider, model, model_label,
		system, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.UserID, c.Username, c.PluginID, c.Provider, c.Model, c.ModelLabel, c.System, unixNano(c.CreatedAt), unixNano(c.UpdatedAt))
	return err
}

// AppendChatTurn stores the chat's next turn (its Seq and CreatedAt are
// set) and, in the same transaction, makes its model, label and system
// prompt the chat's and adds it to the chat's totals.
func (db *DB) AppendChatTurn(ctx context.Context, t *ChatTurn, label, system string) error {
	params, err := json.Marshal(t.Params)
	if err != nil {
		return fmt.Errorf("chat parameters: %w", err)
	}
	if t.Params == nil {
		params = []byte("{}")
	}
	t.CreatedAt = db.Now().UTC()
	return db.inTx(ctx, func(tx *sql.Tx) error {
		var n int
		var price, currency string
		err := tx.QueryRowContext(ctx, `SELECT turns, total_price, currency FROM chats WHERE id = ?`, t.ChatID).Scan(&n, &price, &currency)
		if errors.Is(err, sql.ErrNoRows) {
			return plugboard.Errorf(plugboard.ENOTFOUND, "There is no chat %q.", t.ChatID)
		}
		if err != nil {
			return err
		}
		t.Seq = n + 1
		price, currency = addPrice(n == 0, price, currency, t.Price, t.Currency)
		if _, err := tx.ExecContext(ctx, `INSERT INTO chat_turns (chat_id, seq, plugin_id, provider, model, params, message,
			answer, status, error, finish_reason, prompt_tokens, completion_tokens, total_tokens, price, currency,
			first_us, took_us, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			t.ChatID, t.Seq, t.PluginID, t.Provider, t.Model, string(params), t.Message, t.Answer, t.Status, t.Error,
			t.FinishReason, t.PromptTokens, t.CompletionTokens, t.TotalTokens, t.Price, t.Currency,
			t.First.Microseconds(), t.Took.Microseconds(), unixNano(t.CreatedAt)); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE chats SET plugin_id = ?, provider = ?, model = ?, model_label = ?, system = ?,
			updated_at = ?, turns = turns + 1, total_tokens = total_tokens + ?, total_price = ?, currency = ?,
			last_status = ?, last_first_us = ?, last_took_us = ? WHERE id = ?`,
			t.PluginID, t.Provider, t.Model, label, system, unixNano(t.CreatedAt), t.TotalTokens, price, currency,
			t.Status, t.First.Microseconds(), t.Took.Microseconds(), t.ChatID)
		return err
	})
}

// addPrice adds a turn's price to a chat's total: unknown ("") once a
// turn's price is unknown or in another currency.
func addPrice(first bool, total, currency, price, priceCurrency string) (string, string) {
	if first {
		return price, priceCurrency
	}
	if total == "" || price == "" || currency != priceCurrency {
		return "", ""
	}
	a, ok1 := new(big.Rat).SetString(total)
	b, ok2 := new(big.Rat).SetString(price)
	if !ok1 || !ok2 {
		return "", ""
	}
	return DecimalString(a.Add(a, b)), currency
}

// DecimalString writes r as a decimal without trailing zeros, rounded to
// 12 places ("0.000384", "2", "0").
func DecimalString(r *big.Rat) string {
	s := r.FloatString(12)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}

// FindChat returns the chat with the id.
func (db *DB) FindChat(ctx context.Context, id string) (*Chat, error) {
	c, err := scanChat(db.read.QueryRowContext(ctx, `SELECT `+chatColumns+` FROM chats WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, plugboard.Errorf(plugboard.ENOTFOUND, "There is no chat %q.", id)
	}
	return c, err
}

// ChatTurns returns the chat's turns in order.
func (db *DB) ChatTurns(ctx context.Context, id string) ([]ChatTurn, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT seq, plugin_id, provider, model, params, message, answer, status, error,
		finish_reason, prompt_tokens, completion_tokens, total_tokens, price, currency, first_us, took_us, created_at
		FROM chat_turns WHERE chat_id = ? ORDER BY seq`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ChatTurn
	for rows.Next() {
		t := ChatTurn{ChatID: id}
		var params string
		var first, took, created int64
		if err := rows.Scan(&t.Seq, &t.PluginID, &t.Provider, &t.Model, &params, &t.Message, &t.Answer, &t.Status, &t.Error,
			&t.FinishReason, &t.PromptTokens, &t.CompletionTokens, &t.TotalTokens, &t.Price, &t.Currency, &first, &took, &created); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(params), &t.Params); err != nil {
			t.Params = map[string]any{}
		}
		t.First, t.Took = time.Duration(first)*time.Microsecond, time.Duration(took)*time.Microsecond
		t.CreatedAt = fromUnixNano(created)
		out = append(out, t)
	}
	return out, rows.Err()
}

// FindChats returns the chats the filter selects, the latest changed
// first, and how many it selects in all (for paging).
func (db *DB) FindChats(ctx context.Context, f ChatFilter) ([]Chat, int, error) {
	where, args := chatWhere(f)
	return findPage(ctx, db, "chats", chatColumns, where, args, "updated_at DESC, id", f.Limit, f.Offset, scanChat)
}

// chatWhere is the WHERE clause of a chat filter, with its arguments: the
// search looks in the chat's model, user and system prompt and in its
// turns' messages, answers and errors.
func chatWhere(f ChatFilter) (string, []any) {
	var w filter
	if f.UserID != 0 {
		w.and(`user_id = ?`, f.UserID)
	}
	if f.Model != "" {
		w.and(`plugin_id || '|' || provider || '|' || model = ?`, f.Model)
	}
	w.search(f.Query, []string{"model", "model_label", "username", "system"},
		`id IN (SELECT chat_id FROM chat_turns WHERE message LIKE ? ESCAPE '\' OR answer LIKE ? ESCAPE '\' OR error LIKE ? ESCAPE '\')`)
	return w.where()
}

// ChatFacets returns the models and the users that have chats (of userID
// alone, unless it is 0), for the history's filters.
func (db *DB) ChatFacets(ctx context.Context, userID int64) ([]ChatModel, []RunUser, error) {
	where, args := chatWhere(ChatFilter{UserID: userID})
	rows, err := db.read.QueryContext(ctx, `SELECT plugin_id || '|' || provider || '|' || model, max(model_label) FROM chats`+where+
		` GROUP BY 1 ORDER BY 2, 1`, args...)
	if err != nil {
		return nil, nil, err
	}
	var models []ChatModel
	for rows.Next() {
		var m ChatModel
		if err := rows.Scan(&m.Key, &m.Label); err != nil {
			rows.Close()
			return nil, nil, err
		}
		models = append(models, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	rows, err = db.read.QueryContext(ctx, `SELECT user_id, max(username) FROM chats`+where+` GROUP BY user_id ORDER BY 2`, args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var users []RunUser
	for rows.Next() {
		var u RunUser
		if err := rows.Scan(&u.ID, &u.Username); err != nil {
			return nil, nil, err
		}
		users = append(users, u)
	}
	return models, users, rows.Err()
}

// DeleteChat removes a chat and its turns.
func (db *DB) DeleteChat(ctx context.Context, id string) error {
	res, err := db.write.ExecContext(ctx, `DELETE FROM chats WHERE id = ?`, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return plugboard.Errorf(plugboard.ENOTFOUND, "There is no chat %q.", id)
	}
	return nil
}
