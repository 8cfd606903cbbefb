package client_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/plugboard/plugboard/app/apptest"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/client"
)

const gotools = "plugboard/gotools"

// outcome is everything a caller of InvokeTool can see of one invocation.
type outcome struct {
	OpenErr  string
	Messages []string
	EndErr   string
}

// invoke runs one invocation to its end and describes what the caller saw.
func invoke(ctx context.Context, cl *client.Client, pluginID string, data apispec.InvokeToolData) outcome {
	var o outcome
	st, err := cl.InvokeTool(ctx, pluginID, data, "tester")
	if err != nil {
		o.OpenErr = describeErr(err)
		return o
	}
	defer st.Close()
	for {
		m, err := st.Next()
		if errors.Is(err, io.EOF) {
			return o
		}
		if err != nil {
			o.EndErr = describeErr(err)
			return o
		}
		o.Messages = append(o.Messages, fmt.Sprintf("%s text=%q json=%v blob=%d mime=%q file=%q link=%q raw=%d cb=%v",
			m.Type, m.Text, m.JSON, len(m.Blob), m.MIME, m.Filename, m.Link, len(m.Raw), m.CallBack != nil))
	}
}

// describeErr is an error as a caller can tell it apart: an *client.Error's
// fields, with what differs between two processes' sessions left out.
func describeErr(err error) string {
	var ce *client.Error
	if errors.As(err, &ce) {
		msg := ce.Message
		if i := strings.Index(msg, "session "); i >= 0 {
			msg = msg[:i] // the session id differs per invocation
		}
		return fmt.Sprintf("*Error status=%d code=%d type=%s message=%s", ce.Status, ce.Code, ce.Type, msg)
	}
	return fmt.Sprintf("%T %v", err, err)
}

// TestDirectMatchesHTTP: a tool invoked through the in-process client (its
// Direct dispatch) gives its caller what the same invocation over HTTP
// gives — messages, blobs, a plugin's error, a crash, every refusal before
// the stream — for the same requests.
func TestDirectMatchesHTTP(t *testing.T) {
	overHTTP, inProc := apptest.MustDaemonBoth(t)
	apptest.MustInstallExample(t, overHTTP, "gotools")
	bg := context.Background()
	tool := func(name string, params map[string]any) apispec.InvokeToolData {
		return apispec.InvokeToolData{Provider: "gotools", Tool: name, ToolParameters: params}
	}
	for name, c := range map[string]struct {
		plugin string
		data   apispec.InvokeToolData
		ctx    context.Context
	}{
		"text":                {gotools, tool("stream_text", map[string]any{"text": "one two three", "delay_ms": 0}), bg},
		"json":                {gotools, tool("json_echo", map[string]any{"payload": `{"a":[1,2]}`}), bg},
		"blob":                {gotools, tool("render_png", map[string]any{"width": 300, "height": 300}), bg},
		"plugin error":        {gotools, tool("render_png", map[string]any{"width": 0}), bg},
		"crash":               {gotools, tool("crash", map[string]any{"after": 1}), bg},
		"unknown tool":        {gotools, tool("nope", nil), bg},
		"unknown plugin":      {"plugboard/nothing", tool("stream_text", nil), bg},
		"bad plugin id":       {"not an id", tool("stream_text", nil), bg},
		"no provider":         {gotools, apispec.InvokeToolData{Tool: "stream_text"}, bg},
		"bad credential type": {gotools, apispec.InvokeToolData{Provider: "gotools", Tool: "stream_text", CredentialType: "magic"}, bg},
		"call depth":          {gotools, tool("stream_text", map[string]any{"text": "deep", "delay_ms": 0}), client.WithCallDepth(bg, 2)},
		"call depth too deep": {gotools, tool("stream_text", nil), client.WithCallDepth(bg, 99)},
	} {
		t.Run(name, func(t *testing.T) {
			want := invoke(c.ctx, overHTTP, c.plugin, c.data)
			got := invoke(c.ctx, inProc, c.plugin, c.data)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("in process:\n%+v\nover HTTP:\n%+v", got, want)
			}
			if name != "text" && name != "json" && name != "blob" && name != "call depth" &&
				want.OpenErr == "" && want.EndErr == "" {
				t.Errorf("over HTTP it did not fail: %+v", want) // the case tests nothing
			}
		})
	}
}

// TestDirectCallBackEvents: a plugin's calls back (the callbacks example's
// count tool: exist, get and set, which the daemon answers) reach an in-process
// caller asking for them as they reach one over HTTP, in order before the
// tool's text.
func TestDirectCallBackEvents(t *testing.T) {
	overHTTP, inProc := apptest.MustDaemonBoth(t)
	apptest.MustInstallExample(t, overHTTP, "callbacks")
	ctx := client.WithCallBackEvents(context.Background())
	kinds := func(cl *client.Client) []string {
		st, err := cl.InvokeTool(ctx, "plugboard/callbacks", apispec.InvokeToolData{Provider: "callbacks", Tool: "count"}, "tester")
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		var got []string
		for {
			m, err := st.Next()
			if errors.Is(err, io.EOF) {
				return got
			}
			if err != nil {
				t.Fatal(err)
			}
			kind := m.Type
			if m.CallBack != nil {
				kind += ":" + m.CallBack.Type + ":" + m.CallBack.Outcome
			}
			got = append(got, kind)
		}
	}
	kinds(overHTTP) // the counter's first run does not read it: the later ones read it too
	want := kinds(overHTTP)
	storage := client.MessageCallBack + ":storage:ok"
	if !reflect.DeepEqual(want, []string{storage, storage, storage, "text"}) {
		t.Fatalf("over HTTP: %v, want three storage calls back and the text", want)
	}
	if got := kinds(inProc); !reflect.DeepEqual(got, want) {
		t.Fatalf("in process %v, over HTTP %v", got, want)
	}
}

// TestDirectCancel: closing an in-process stream, or its context ending,
// cancels the plugin's session as a closed connection does.
func TestDirectCancel(t *testing.T) {
	overHTTP, inProc := apptest.MustDaemonBoth(t)
	apptest.MustInstallExample(t, overHTTP, "gotools")
	long := apispec.InvokeToolData{Provider: "gotools", Tool: "stream_text",
		ToolParameters: map[string]any{"text": "one two three four five six", "delay_ms": 5000}}
	cancelled := func(t *testing.T, want int) {
		t.Helper()
		for deadline := time.Now().Add(time.Minute); apptest.CancelledSessions(t, overHTTP, gotools) < want; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the plugin saw fewer than %d cancels", want)
			}
		}
	}
	t.Run("Close", func(t *testing.T) {
		st, err := inProc.InvokeTool(context.Background(), gotools, long, "tester")
		if err != nil {
			t.Fatal(err)
		}
		if m, err := st.Next(); err != nil || m.Text != "one" {
			t.Fatalf("first message %+v, %v", m, err)
		}
		st.Close()
		if _, err := st.Next(); err == nil {
			t.Fatal("a closed stream went on")
		}
		cancelled(t, 1)
	})
	t.Run("context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		st, err := inProc.InvokeTool(ctx, gotools, long, "tester")
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if m, err := st.Next(); err != nil || m.Text != "one" {
			t.Fatalf("first message %+v, %v", m, err)
		}
		cancel()
		if _, err := st.Next(); !errors.Is(err, context.Canceled) {
			t.Fatalf("after the cancel: %v, want context.Canceled", err)
		}
		cancelled(t, 2)
	})
}
