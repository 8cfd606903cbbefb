package gateway

import (
	"encoding/json"
	"testing"
)

func TestParseCall(t *testing.T) {
	for body, want := range map[string]string{
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a__b","arguments":{}}}`: "tools/call",
		`{"jsonrpc":"2.0","id":"x-1","method":"tools/call","params":{"name":"a__b"}}`:            "tools/call",
		` {"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}}`:         "notifications/cancelled",
		`{"jsonrpc":"2.0","id":1.5,"method":"tools/call","params":{}}`:                           "", // not an id the SDK takes
		`{"jsonrpc":"2.0","id":null,"method":"tools/call","params":{}}`:                          "",
		`{"jsonrpc":"1.0","id":1,"method":"tools/call","params":{}}`:                             "",
		`{"id":1,"method":"tools/call","params":{}}`:                                             "", // no jsonrpc
		`{"jsonrpc":"2.0","id":1,"Method":"tools/call","params":{}}`:                             "", // names are exact
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":[]}`:                             "",
		`{"jsonrpc":"2.0","id":1,"result":{}}`:                                                   "", // a response
		`[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{}}]`:                           "", // a batch
		"  \n": "",
		"":     "",
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{}`:             "", // cut short
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{}} {}`:         "", // two values
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{},"x":1}`:      "", // another member
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":null}`:          "",
		`{"jsonrpc":2,"id":1,"method":"tools/call","params":{}}`:                "",
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"_meta":{}}} `: "tools/call", // params are serveCall's to judge
	} {
		msg := parseCall([]byte(body))
		got := ""
		if msg != nil {
			got = msg.Method
		}
		if got != want {
			t.Errorf("%s: %q, want %q", body, got, want)
		}
	}
}

func TestIsRequestID(t *testing.T) {
	for v, want := range map[string]bool{`1`: true, `-7`: true, `"a"`: true, `""`: true, `1.5`: false, `1e3`: false,
		`null`: false, `-`: false, `"\x"`: false, `1234567890123456789`: false} {
		if got := isRequestID(json.RawMessage(v)); got != want {
			t.Errorf("%s: %v, want %v", v, got, want)
		}
	}
}
