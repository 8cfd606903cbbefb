package client_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/daemon/innerapi"
)

// TestCallDepth checks that a request made under WithCallDepth tells the
// daemon its depth, and one without does not.
func TestCallDepth(t *testing.T) {
	got := make(chan string, 2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Get(innerapi.HeaderCallDepth)
		w.Header().Set("Content-Type", "text/event-stream")
	}))
	defer srv.Close()
	cl := client.New(srv.URL, "k")
	for _, tc := range []struct {
		ctx  context.Context
		want string
	}{{client.WithCallDepth(context.Background(), 3), "3"}, {context.Background(), ""}} {
		s, err := cl.InvokeTool(tc.ctx, "a/b", apispec.InvokeToolData{Provider: "p", Tool: "t"}, "u")
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		if h := <-got; h != tc.want {
			t.Fatalf("depth header %q, want %q", h, tc.want)
		}
	}
}
