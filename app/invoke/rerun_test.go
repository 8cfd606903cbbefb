package invoke_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/app/invoke"
	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/daemon/protocol"
	"github.com/plugboard/plugboard/store"
)

func TestRerunRequest(t *testing.T) {
	tool := &invoke.Tool{PluginID: "p/q", Provider: "q", Name: "t", Declaration: plugboard.Tool{Parameters: []plugboard.Parameter{
		{Name: "text", Type: plugboard.ParamString}, {Name: "token", Type: plugboard.ParamSecret}, {Name: "doc", Type: plugboard.ParamFile}}}}
	run := &store.Run{PluginID: "p/q", Provider: "q", Tool: "t",
		Params: map[string]any{"text": "hi", "token": "[redacted]", "doc": map[string]any{"filename": "a.txt"}}}
	t.Run("OKSecretGiven", func(t *testing.T) {
		req, err := invoke.RerunRequest(tool, run, invoke.Caller{}, map[string]string{"token": "s3cret", "text": "ignored"})
		if err != nil || req.Params["text"] != "hi" || req.Params["token"] != "s3cret" || !req.NoCredential {
			t.Fatalf("request %+v %v", req, err)
		}
		if _, ok := req.Params["doc"]; ok {
			t.Error("the stored file entry is sent as a parameter (the files are copied instead)")
		}
	})
	t.Run("ErrSecretMissing", func(t *testing.T) {
		_, err := invoke.RerunRequest(tool, run, invoke.Caller{}, nil)
		pr, ok := err.(*invoke.Problems)
		if !ok || !strings.Contains(pr.Params["token"], "type it here") {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("ErrCredentialGone", func(t *testing.T) {
		gone := *run
		gone.CredentialID = 42
		_, err := invoke.RerunRequest(tool, &gone, invoke.Caller{}, map[string]string{"token": "s3cret"})
		pr, ok := err.(*invoke.Problems)
		if !ok || !strings.Contains(pr.Credential, "no longer exists") {
			t.Fatalf("err %v", err)
		}
	})
}

func TestRerun(t *testing.T) {
	e := MustEnv(t)
	ctx := context.Background()
	cred := e.MustCredential(t, "plugboard/gotools", "gotools", "demo-rerun-key-0042")
	old, err := e.Svc.Call(ctx, gotools("whoami", nil), nil)
	if err != nil || old.Status != store.RunDone {
		t.Fatalf("first run %+v %v", old, err)
	}
	r, err := e.Svc.Rerun(ctx, old, invoke.Caller{UserID: 1, Username: "bob"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for r.Running() {
		got, _, changed, err := e.Svc.Follow(ctx, r.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		if r = got; r.Running() {
			<-changed
		}
	}
	if r.ID == old.ID || r.Status != store.RunDone || r.CredentialID != cred.ID || r.Username != "bob" {
		t.Fatalf("rerun %+v", r)
	}
	if obs := invoke.Observation(e.mustEvents(t, r.ID)); !strings.Contains(obs, "You are bob") {
		t.Fatalf("rerun said %q", obs)
	}
}

func TestObservation(t *testing.T) {
	ev := func(typ, payload string) store.RunEvent {
		return store.RunEvent{RunID: "r", Type: typ, Payload: json.RawMessage(payload)}
	}
	got := invoke.Observation([]store.RunEvent{
		ev("text", `{"text":"Hello "}`), ev("text", `{"text":"world."}`),
		ev("link", `{"link":"https://x.example/a"}`),
		ev("blob", `{"mime":"image/png","filename":"a.png"}`),
		ev("json", `{"json":{"n":1}}`),
		ev("log", `{"log":{"label":"step"}}`),
	})
	want := "Hello world.result link: https://x.example/a. please tell user to check it." +
		"image has been created and sent to user already, you do not need to create it, just tell the user to check it now." + `{"n":1}`
	if got != want {
		t.Fatalf("observation\n%q\nwant\n%q", got, want)
	}
}

// shown is a message's JSON as text ("" for none).
func shown(v any) string {
	if v == nil {
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// TestObservationOf reads messages as they arrive as Observation reads
// them stored: a link in Text (image link) and a blob's MIME count.
func TestObservationOf(t *testing.T) {
	got := invoke.ObservationOf([]*client.Message{
		{Type: "text", Text: "Hello "}, {Type: "text", Text: "world."},
		{Type: "link", Text: "https://x.example/a"},
		{Type: "blob", MIME: "application/pdf", Filename: "a.pdf", Blob: []byte("%PDF")},
		{Type: "blob", MIME: "image/png", Blob: []byte("png")},
		{Type: "json", JSON: map[string]any{"n": 1.0}},
		{Type: "log", Log: &protocol.LogMessage{Label: "step"}},
	})
	want := "Hello world.result link: https://x.example/a. please tell user to check it." +
		"result link: a.pdf. please tell user to check it." +
		"image has been created and sent to user already, you do not need to create it, just tell the user to check it now." + `{"n":1}`
	if got != want {
		t.Fatalf("observation\n%q\nwant\n%q", got, want)
	}
}
