package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/store"
)

func TestChats(t *testing.T) {
	ctx := context.Background()
	db, now := MustOpen(t)
	mk := func(user int64, name, model string) *store.Chat {
		c := &store.Chat{UserID: user, Username: name, PluginID: "plugboard/demo_model", Provider: "demo_model", Model: model, ModelLabel: model + " — Demo"}
		if err := db.CreateChat(ctx, c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	turn := func(c *store.Chat, msg, price, currency string) {
		*now = now.Add(time.Second)
		tr := &store.ChatTurn{ChatID: c.ID, PluginID: c.PluginID, Provider: c.Provider, Model: c.Model,
			Params: map[string]any{"temperature": 0.5}, Message: msg, Answer: "re: " + msg, Status: store.ChatDone,
			FinishReason: "stop", TotalTokens: 10, Price: price, Currency: currency, First: 30 * time.Millisecond, Took: 120 * time.Millisecond}
		if err := db.AppendChatTurn(ctx, tr, c.ModelLabel, "Be brief."); err != nil {
			t.Fatal(err)
		}
	}
	alice := mk(1, "alice", "demo-chat")
	turn(alice, "hello", "0.0001", "USD")
	turn(alice, "again", "0.00025", "USD")
	bob := mk(2, "bob", "other-chat")
	turn(bob, "hi there", "0.1", "USD")
	turn(bob, "in euros", "0.1", "EUR")

	t.Run("OKTotals", func(t *testing.T) {
		c, err := db.FindChat(ctx, alice.ID)
		if err != nil || c.Turns != 2 || c.TotalTokens != 20 || c.TotalPrice != "0.00035" || c.Currency != "USD" ||
			c.LastStatus != store.ChatDone || c.LastFirst != 30*time.Millisecond || c.LastTook != 120*time.Millisecond || c.System != "Be brief." {
			t.Fatalf("chat %+v, %v", c, err)
		}
		if c, _ := db.FindChat(ctx, bob.ID); c.TotalPrice != "" || c.Currency != "" {
			t.Fatalf("prices in two currencies add up to %q %q", c.TotalPrice, c.Currency)
		}
		turns, err := db.ChatTurns(ctx, alice.ID)
		if err != nil || len(turns) != 2 || turns[1].Seq != 2 || turns[1].Message != "again" || turns[1].Params["temperature"] != 0.5 ||
			turns[0].Took != 120*time.Millisecond || turns[0].ModelKey() != "plugboard/demo_model|demo_model|demo-chat" {
			t.Fatalf("turns %+v, %v", turns, err)
		}
	})
	t.Run("OKFilters", func(t *testing.T) {
		all, total, err := db.FindChats(ctx, store.ChatFilter{})
		if err != nil || total != 2 || all[0].ID != bob.ID {
			t.Fatalf("all = %d %v, latest first? %v", total, err, all)
		}
		for name, f := range map[string]store.ChatFilter{
			"user":   {UserID: 1},
			"model":  {Model: alice.ModelKey()},
			"answer": {Query: "re: again"},
		} {
			got, n, err := db.FindChats(ctx, f)
			if err != nil || n != 1 || got[0].ID != alice.ID {
				t.Errorf("%s: %d %v", name, n, err)
			}
		}
		models, users, err := db.ChatFacets(ctx, 2)
		if err != nil || len(models) != 1 || models[0].Key != bob.ModelKey() || len(users) != 1 || users[0].Username != "bob" {
			t.Fatalf("facets %v %v %v", models, users, err)
		}
	})
	t.Run("ErrTurnOfNoChat", func(t *testing.T) {
		err := db.AppendChatTurn(ctx, &store.ChatTurn{ChatID: "nope", Message: "x", Status: store.ChatDone}, "", "")
		if plugboard.ErrorCode(err) != plugboard.ENOTFOUND {
			t.Fatalf("append to no chat = %v", err)
		}
	})
	t.Run("OKDelete", func(t *testing.T) {
		if err := db.DeleteChat(ctx, alice.ID); err != nil {
			t.Fatal(err)
		}
		if turns, _ := db.ChatTurns(ctx, alice.ID); len(turns) != 0 {
			t.Fatal("the turns outlived their chat")
		}
		if err := db.DeleteChat(ctx, alice.ID); plugboard.ErrorCode(err) != plugboard.ENOTFOUND {
			t.Fatalf("delete twice = %v", err)
		}
	})
}
