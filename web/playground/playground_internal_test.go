package playground

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/views"
)

func TestParseParam(t *testing.T) {
	obj := plugboard.Parameter{Name: "cfg", Type: plugboard.ParamObject}
	t.Run("OK", func(t *testing.T) {
		v, msg := parseParam(obj, `{"a": 1}`)
		if m, ok := v.(map[string]any); !ok || m["a"] != 1.0 || msg != "" {
			t.Fatalf("got %#v %q", v, msg)
		}
	})
	t.Run("ErrInvalidJSON", func(t *testing.T) {
		if _, msg := parseParam(obj, `{"a": }`); !strings.HasPrefix(msg, "cfg is not valid JSON") {
			t.Fatalf("message %q", msg)
		}
	})
	t.Run("ErrWrongKind", func(t *testing.T) {
		if _, msg := parseParam(obj, `[1]`); msg != "cfg must be a JSON object." {
			t.Fatalf("message %q", msg)
		}
	})
	t.Run("ErrNotAnOption", func(t *testing.T) {
		sel := plugboard.Parameter{Name: "c", Type: plugboard.ParamSelect, Options: []plugboard.Option{{Value: "red"}}}
		if _, msg := parseParam(sel, "pink"); msg != `c must be one of its options, not "pink".` {
			t.Fatalf("message %q", msg)
		}
	})
}

func TestEventView(t *testing.T) {
	view := func(t *testing.T, ev store.RunEvent) views.RunEventView {
		t.Helper()
		v, err := eventView(ev)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	t.Run("OKStreamedVariableChunkRaw", func(t *testing.T) {
		v := view(t, store.RunEvent{RunID: "r", Seq: 4, Type: "variable",
			Payload: json.RawMessage(`{"variable":{"variable_name":"answer","variable_value":"par","stream":true}}`)})
		if v.VarName != "answer" || v.VarValue != "par" || !v.VarStream {
			t.Fatalf("view %+v", v)
		}
	})
	t.Run("OKWholeVariableAsJSON", func(t *testing.T) {
		v := view(t, store.RunEvent{RunID: "r", Seq: 4, Type: "variable",
			Payload: json.RawMessage(`{"variable":{"variable_name":"n","variable_value":{"a":1}}}`)})
		if v.VarValue != `{"a":1}` || v.VarStream {
			t.Fatalf("view %+v", v)
		}
	})
	t.Run("OKBlobURL", func(t *testing.T) {
		v := view(t, store.RunEvent{RunID: "r1", Seq: 2, Type: "blob", Payload: json.RawMessage(`{"mime":"image/png","size":3}`)})
		if v.FileURL != "/playground/runs/r1/files/2" || !v.IsImage() {
			t.Fatalf("view %+v", v)
		}
	})
	t.Run("ErrVariableOfAnotherShape", func(t *testing.T) {
		v, err := eventView(store.RunEvent{RunID: "r1", Seq: 3, Type: "variable",
			Payload: json.RawMessage(`{"variable":{"variable_name":7}}`)})
		if err == nil || !strings.Contains(err.Error(), "message 3 (variable) of run r1") {
			t.Fatalf("err = %v, want one naming the message and run", err)
		}
		if v.Seq != 3 || v.Type != "variable" || v.Stored == "" {
			t.Fatalf("view of what decoded %+v", v)
		}
	})
	t.Run("ErrLogOfAnotherShape", func(t *testing.T) {
		_, err := eventView(store.RunEvent{RunID: "r1", Seq: 5, Type: "log", Payload: json.RawMessage(`{"log":["x"]}`)})
		if err == nil || !strings.Contains(err.Error(), "log does not decode") {
			t.Fatalf("err = %v", err)
		}
	})
}
