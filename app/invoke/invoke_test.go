package invoke_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/app/invoke"
	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/store"
)

func TestCall(t *testing.T) {
	e := MustEnv(t)
	ctx := context.Background()

	t.Run("OK", func(t *testing.T) {
		var got []string
		r, err := e.Svc.Call(ctx, gotools("stream_text", map[string]any{"text": "one two three", "delay_ms": 1.0}),
			func(m *client.Message) { got = append(got, m.Text) })
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != store.RunDone || r.Messages != 3 || strings.Join(got, "") != "one two three" {
			t.Fatalf("run %+v, messages %q", r, got)
		}
		if obs := invoke.Observation(e.mustEvents(t, r.ID)); obs != "one two three" {
			t.Fatalf("observation %q", obs)
		}
		// Recorded once, at its end, as it was returned.
		stored, err := e.Store.FindRun(ctx, r.ID)
		if err != nil || stored.Status != store.RunDone || stored.Messages != 3 || stored.FirstAt.IsZero() ||
			!stored.EndedAt.Equal(r.EndedAt) || stored.Params["text"] != "one two three" {
			t.Fatalf("stored %+v %v; returned %+v", stored, err, r)
		}
	})
	t.Run("OKCancelledByTheCaller", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		r, err := e.Svc.Call(cctx, gotools("stream_text", map[string]any{"text": "a b c d e f g h", "delay_ms": 2000.0}),
			func(*client.Message) { cancel() })
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != store.RunCancelled || r.Messages != 1 {
			t.Fatalf("run %+v, want cancelled after its first message", r)
		}
	})
	t.Run("OKPluginError", func(t *testing.T) {
		r, err := e.Svc.Call(ctx, gotools("crash", map[string]any{"after": 1.0}), nil)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != store.RunFailed || !strings.Contains(r.Error, "exited unexpectedly") {
			t.Fatalf("run %+v, want failed saying the plugin exited", r)
		}
	})
}

func TestCallChecksParams(t *testing.T) {
	e := MustEnv(t)
	for name, tc := range map[string]struct {
		tool   string
		params map[string]any
		param  string
		want   string
	}{
		"ErrRequired":       {"stream_text", map[string]any{"delay_ms": 1.0}, "text", "text is required."},
		"ErrBlankRequired":  {"stream_text", map[string]any{"text": "  "}, "text", "text is required."},
		"ErrNotAString":     {"stream_text", map[string]any{"text": 5.0}, "text", "text must be a string, not 5."},
		"ErrNotANumber":     {"stream_text", map[string]any{"text": "x", "delay_ms": "soon"}, "delay_ms", `delay_ms must be a number, not "soon".`},
		"ErrOverMax":        {"stream_text", map[string]any{"text": "x", "delay_ms": 9000.0}, "delay_ms", "delay_ms must be at most 5000."},
		"ErrNotAnOption":    {"render_png", map[string]any{"width": 8.0, "height": 8.0, "color": "pink"}, "color", `color must be one of its options, not "pink".`},
		"ErrNotTrueOrFalse": {"whoami", map[string]any{"reveal": "yes"}, "reveal", `reveal must be true or false, not "yes".`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := e.Svc.Call(context.Background(), gotools(tc.tool, tc.params), nil)
			var pr *invoke.Problems
			if !errors.As(err, &pr) || pr.Params[tc.param] != tc.want || plugboard.ErrorCode(err) != plugboard.EINVALID {
				t.Fatalf("err %v (%#v), want %q for %s", err, pr, tc.want, tc.param)
			}
		})
	}
	t.Run("ErrUnknownTool", func(t *testing.T) {
		if _, err := e.Svc.Call(context.Background(), gotools("nope", nil), nil); plugboard.ErrorCode(err) != plugboard.ENOTFOUND {
			t.Fatalf("err %v, want not found", err)
		}
	})
	if runs, _, _ := e.Store.FindRuns(context.Background(), store.RunFilter{}); len(runs) != 0 {
		t.Errorf("%d runs recorded for refused requests", len(runs))
	}
}

func TestCallCredentials(t *testing.T) {
	const key = "demo-invoke-secret-5521"
	e := MustEnv(t)
	ctx := context.Background()
	cred := e.MustCredential(t, "plugboard/gotools", "gotools", key)

	t.Run("OKDefaultCredential", func(t *testing.T) {
		var text string
		r, err := e.Svc.Call(ctx, gotools("whoami", nil), func(m *client.Message) { text += m.Text })
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != store.RunDone || r.CredentialID != cred.ID || !strings.Contains(text, "You are alice, calling with API key demo-…21") {
			t.Fatalf("run %+v: %q", r, text)
		}
	})
	t.Run("OKSecretsRedacted", func(t *testing.T) {
		var seen strings.Builder
		r, err := e.Svc.Call(ctx, gotools("whoami", map[string]any{"reveal": true}), func(m *client.Message) {
			seen.WriteString(m.Text)
			seen.WriteString(shown(m.JSON))
		})
		if err != nil || r.Status != store.RunDone {
			t.Fatalf("run %+v %v", r, err)
		}
		if !strings.Contains(seen.String(), "[redacted]") {
			t.Errorf("messages %q do not show the key redacted", seen.String())
		}
		for _, half := range []string{key[:len(key)/2], key[len(key)/2:]} {
			if strings.Contains(seen.String(), half) {
				t.Errorf("a message handed to the caller holds the secret: %q", seen.String())
			}
			for _, ev := range e.mustEvents(t, r.ID) {
				if strings.Contains(string(ev.Payload), half) {
					t.Errorf("stored %s event holds the secret: %s", ev.Type, ev.Payload)
				}
			}
		}
	})
	t.Run("OKNoCredential", func(t *testing.T) {
		req := gotools("whoami", nil)
		req.NoCredential = true
		r, err := e.Svc.Call(ctx, req, nil)
		if err != nil || r.CredentialID != 0 || r.Status != store.RunFailed {
			t.Fatalf("run %+v %v, want one failed without a credential", r, err)
		}
	})
	t.Run("ErrCredentialOfAnotherProvider", func(t *testing.T) {
		other := e.MustCredential(t, "someone/else", "else", "demo-other-key-0001")
		req := gotools("whoami", nil)
		req.CredentialID = other.ID
		_, err := e.Svc.Call(ctx, req, nil)
		var pr *invoke.Problems
		if !errors.As(err, &pr) || !strings.Contains(pr.Credential, "gotools has no credential") {
			t.Fatalf("err %v, want the credential refused", err)
		}
	})
}

// TestStartFollowClose: a started run is followed to its first message;
// Close ends it, recorded as interrupted, and waits for that.
func TestStartFollowClose(t *testing.T) {
	e := MustEnv(t)
	ctx := context.Background()
	r, err := e.Svc.Start(ctx, gotools("stream_text", map[string]any{"text": "a b c d e f g h", "delay_ms": 2000.0}))
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != store.RunRunning || r.Params["text"] != "a b c d e f g h" {
		t.Fatalf("started run %+v", r)
	}
	for {
		got, evs, changed, err := e.Svc.Follow(ctx, r.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) > 0 {
			break
		}
		if changed == nil || !got.Running() {
			t.Fatalf("run %+v ended before its first message", got)
		}
		select {
		case <-changed:
		case <-time.After(time.Minute):
			t.Fatal("no change within a minute")
		}
	}
	e.Svc.Close()
	got, _, changed, err := e.Svc.Follow(ctx, r.ID, 0)
	if err != nil || changed != nil || got.Status != store.RunFailed || got.Error != "The run was interrupted." {
		t.Fatalf("after Close: run %+v, changed %v, %v", got, changed, err)
	}
}

func TestCancel(t *testing.T) {
	e := MustEnv(t)
	ctx := context.Background()
	r, err := e.Svc.Start(ctx, gotools("stream_text", map[string]any{"text": "a b c d e f g h", "delay_ms": 2000.0}))
	if err != nil {
		t.Fatal(err)
	}
	if !e.Svc.Cancel(r.ID) {
		t.Fatal("a started run is not live")
	}
	for {
		got, _, changed, err := e.Svc.Follow(ctx, r.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Running() {
			if got.Status != store.RunCancelled {
				t.Fatalf("run %+v, want cancelled", got)
			}
			break
		}
		<-changed
	}
	if e.Svc.Cancel(r.ID) {
		t.Error("an ended run is still live")
	}
}

// TestCallFollowed: a Call's run, which keeps its messages for its end
// while nobody follows it, shows one who comes to follow it the messages so
// far at once and the next ones as they come; every message is stored once,
// in order.
func TestCallFollowed(t *testing.T) {
	e := MustEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	first := make(chan struct{})
	ended := make(chan *store.Run, 1)
	n := 0
	go func() {
		r, err := e.Svc.Call(ctx, gotools("stream_text", map[string]any{"text": "a b c d e f g h", "delay_ms": 2000.0}),
			func(*client.Message) {
				if n++; n == 1 {
					close(first)
				}
			})
		if err != nil {
			t.Error(err)
		}
		ended <- r
	}()
	<-first
	// Unrecorded at first, it is recorded as running once it has run for
	// a second (the words come 2 s apart).
	var runs []store.Run
	for deadline := time.Now().Add(time.Minute); len(runs) == 0; {
		var err error
		if runs, _, err = e.Store.FindRuns(context.Background(), store.RunFilter{}); err != nil || len(runs) > 1 {
			t.Fatalf("runs %+v, %v", runs, err)
		}
		if time.Now().After(deadline) {
			t.Fatal("the run was not recorded within a minute")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !runs[0].Running() {
		t.Fatalf("recorded %+v; want it running", runs[0])
	}
	id := runs[0].ID
	// Unfollowed, its messages are stored with its end, all at once.
	if evs := e.mustEvents(t, id); len(evs) > 0 {
		if r, err := e.Store.FindRun(context.Background(), id); err != nil || r.Running() {
			t.Fatalf("%d messages stored of a running run nobody follows: %+v, %v", len(evs), r, err)
		}
	}
	got, evs, changed, err := e.Svc.Follow(context.Background(), id, 0)
	if err != nil || len(evs) == 0 || evs[0].Seq != 1 {
		t.Fatalf("followed: run %+v, messages %+v, %v; want the first one", got, evs, err)
	}
	seen := len(evs)
	for got.Running() && seen < 2 { // a message arriving while it is followed
		select {
		case <-changed:
		case <-time.After(time.Minute):
			t.Fatal("no change within a minute")
		}
		if got, evs, changed, err = e.Svc.Follow(context.Background(), id, seen); err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			if seen++; ev.Seq != seen {
				t.Fatalf("message %d numbered %d", seen, ev.Seq)
			}
		}
	}
	if seen < 2 || !got.Running() && got.Status != store.RunDone {
		t.Fatalf("run %+v after %d messages", got, seen)
	}
	cancel()
	r := <-ended
	all := e.mustEvents(t, id)
	if r.Status != store.RunCancelled || r.Messages != len(all) || len(all) < 2 {
		t.Fatalf("run %+v, %d stored messages", r, len(all))
	}
	for i, ev := range all {
		if ev.Seq != i+1 {
			t.Fatalf("stored message %d numbered %d", i+1, ev.Seq)
		}
	}
}
