package client_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/plugboard/plugboard/daemon/client"
)

// inProcessDo sends req through client.InProcess(h, nil)'s transport.
func inProcessDo(t *testing.T, h http.Handler, req *http.Request) *http.Response {
	t.Helper()
	hc := client.HTTPClientOf(client.New("http://daemon.invalid", "k", client.InProcess(h, nil)))
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestInProcess(t *testing.T) {
	t.Run("OKStatusHeaderBodyAndRequest", func(t *testing.T) {
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			w.Header().Set("X-Seen", r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery+" "+r.Header.Get("X-Api-Key")+" "+string(body))
			w.WriteHeader(http.StatusTeapot)
			io.WriteString(w, "short and stout")
		})
		req, _ := http.NewRequest(http.MethodPost, "http://daemon.invalid/plugin/x/dispatch?a=1", strings.NewReader("the body"))
		req.Header.Set("X-Api-Key", "secret-key")
		resp := inProcessDo(t, h, req)
		defer resp.Body.Close()
		got, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusTeapot || string(got) != "short and stout" ||
			resp.Header.Get("X-Seen") != "POST /plugin/x/dispatch?a=1 secret-key the body" {
			t.Fatalf("%d %q %q", resp.StatusCode, got, resp.Header.Get("X-Seen"))
		}
	})
	t.Run("OKNothingWrittenIs200Empty", func(t *testing.T) {
		resp := inProcessDo(t, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), mustGet(t))
		defer resp.Body.Close()
		if got, _ := io.ReadAll(resp.Body); resp.StatusCode != http.StatusOK || len(got) != 0 {
			t.Fatalf("%d %q", resp.StatusCode, got)
		}
	})
	t.Run("OKStreamsBeforeTheHandlerEnds", func(t *testing.T) {
		next := make(chan struct{})
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "data: one\n\n")
			http.NewResponseController(w).Flush()
			<-next // the client must have read "one" to let the handler go on
			io.WriteString(w, "data: two\n\n")
		})
		resp := inProcessDo(t, h, mustGet(t))
		defer resp.Body.Close()
		r := bufio.NewReader(resp.Body)
		if line, err := r.ReadString('\n'); err != nil || line != "data: one\n" {
			t.Fatalf("%q %v", line, err)
		}
		close(next)
		rest, err := io.ReadAll(r)
		if err != nil || string(rest) != "\ndata: two\n\n" {
			t.Fatalf("%q %v", rest, err)
		}
	})
	t.Run("OKWritesGoAheadOfTheReader", func(t *testing.T) {
		// The handler's frames do not wait for the reader one by one (as
		// a socket's buffer lets them), yet all arrive in order.
		wrote := make(chan struct{})
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			for i := range 10 {
				fmt.Fprintf(w, "data: %d\n\n", i)
				http.NewResponseController(w).Flush()
			}
			close(wrote)
		})
		resp := inProcessDo(t, h, mustGet(t))
		defer resp.Body.Close()
		<-wrote // before anything was read
		got, err := io.ReadAll(resp.Body)
		var want strings.Builder
		for i := range 10 {
			fmt.Fprintf(&want, "data: %d\n\n", i)
		}
		if err != nil || string(got) != want.String() {
			t.Fatalf("%q %v", got, err)
		}
	})
	t.Run("OKClosingTheBodyCancelsTheHandler", func(t *testing.T) {
		ended := make(chan error, 1)
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "first")
			<-r.Context().Done()
			_, err := io.WriteString(w, "after the client left")
			ended <- err
		})
		resp := inProcessDo(t, h, mustGet(t))
		buf := make([]byte, 5)
		if _, err := io.ReadFull(resp.Body, buf); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if err := <-ended; err == nil {
			t.Fatal("a write after the body was closed succeeded")
		}
	})
	t.Run("ErrContextEndsDuringTheBody", func(t *testing.T) {
		// A handler that ends its answer cleanly when its request ends:
		// the caller still reads its context's error, not a clean end.
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "first")
			http.NewResponseController(w).Flush()
			<-r.Context().Done()
		})
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://daemon.invalid/x", nil)
		resp := inProcessDo(t, h, req)
		defer resp.Body.Close()
		buf := make([]byte, 5)
		if _, err := io.ReadFull(resp.Body, buf); err != nil {
			t.Fatal(err)
		}
		cancel()
		if rest, err := io.ReadAll(resp.Body); !errors.Is(err, context.Canceled) {
			t.Fatalf("after the cancel: %q %v, want context.Canceled", rest, err)
		}
	})
	t.Run("ErrContextEndsBeforeTheHeader", func(t *testing.T) {
		release := make(chan struct{})
		defer close(release)
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release })
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://daemon.invalid/x", nil)
		hc := client.HTTPClientOf(client.New("http://daemon.invalid", "k", client.InProcess(h, nil)))
		done := make(chan error, 1)
		go func() {
			resp, err := hc.Do(req)
			if err == nil {
				resp.Body.Close()
			}
			done <- err
		}()
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("%v", err)
		}
	})
	t.Run("ErrPanicBeforeTheHeader", func(t *testing.T) {
		h := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") })
		hc := client.HTTPClientOf(client.New("http://daemon.invalid", "k", client.InProcess(h, nil)))
		_, err := hc.Do(mustGet(t))
		if err == nil || !strings.Contains(err.Error(), "daemon handler panicked: boom") {
			t.Fatalf("%v", err)
		}
	})
	t.Run("ErrPanicAfterTheHeaderEndsTheBody", func(t *testing.T) {
		h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			io.WriteString(w, "partial")
			panic("boom")
		})
		resp := inProcessDo(t, h, mustGet(t))
		defer resp.Body.Close()
		got, err := io.ReadAll(resp.Body)
		if string(got) != "partial" || err == nil || !strings.Contains(err.Error(), "boom") {
			t.Fatalf("%q %v", got, err)
		}
	})
}

func mustGet(t *testing.T) *http.Request {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, "http://daemon.invalid/x", nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}
