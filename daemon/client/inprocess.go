package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
)

// InProcess makes the client call h — the daemon's API handler, running in
// this process — with no socket in between: each request is served by h in
// a goroutine of its own and its response body streams through a pipe, so
// the bytes, statuses and streams are the API's own, without the TCP round
// trip, its system calls and its transport goroutines. Closing a response
// body, or the request's context ending, cancels the handler's request as
// a closed connection would. The embedded daemon's app uses it; every
// other client goes over HTTP.
func InProcess(h http.Handler) Option {
	return WithHTTPClient(&http.Client{Transport: handlerTransport{h: h}})
}

type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancel(req.Context())
	sreq := req.Clone(ctx)
	sreq.RequestURI, sreq.RemoteAddr, sreq.Host = req.URL.RequestURI(), "127.0.0.1:0", req.URL.Host
	if sreq.Body == nil {
		sreq.Body = http.NoBody
	}
	pr, pw := io.Pipe()
	// The caller's context ending fails its reads, as it does over HTTP
	// (the handler, whose context ends too, may end its answer cleanly).
	stop := context.AfterFunc(req.Context(), func() { pw.CloseWithError(req.Context().Err()) })
	w := &pipeResponse{header: http.Header{}, body: pw, ready: make(chan struct{})}
	go func() {
		defer func() {
			if p := recover(); p != nil {
				w.fail(fmt.Errorf("daemon handler panicked: %v", p))
				return
			}
			w.WriteHeader(http.StatusOK) // a handler that wrote nothing answered 200, empty
			pw.CloseWithError(req.Context().Err()) // nil: the caller reads the end
		}()
		t.h.ServeHTTP(w, sreq)
	}()
	select {
	case <-w.ready:
	case <-ctx.Done():
		pr.CloseWithError(ctx.Err())
		cancel()
		return nil, ctx.Err()
	}
	if w.err != nil {
		stop()
		cancel()
		return nil, w.err
	}
	return &http.Response{
		Status: fmt.Sprintf("%d %s", w.status, http.StatusText(w.status)), StatusCode: w.status,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: w.sent, ContentLength: -1, Request: req,
		Body: &pipeBody{r: pr, cancel: func() { stop(); cancel() }},
	}, nil
}

// pipeResponse is the handler's http.ResponseWriter: the header is handed
// over at WriteHeader, the body written into the pipe the client reads.
type pipeResponse struct {
	header http.Header
	body   *io.PipeWriter

	once   sync.Once
	ready  chan struct{}
	status int
	sent   http.Header
	err    error // the handler failed before answering
}

func (w *pipeResponse) Header() http.Header { return w.header }

func (w *pipeResponse) WriteHeader(status int) {
	w.once.Do(func() {
		w.status, w.sent = status, w.header.Clone()
		close(w.ready)
	})
}

func (w *pipeResponse) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(p)
}

// Flush sends nothing more: what was written has been read already (the
// pipe has no buffer); it sends the header if not yet sent.
func (w *pipeResponse) Flush() { w.WriteHeader(http.StatusOK) }

// fail ends the response with err: before the header the round trip
// returns it, after the header the body's reader gets it.
func (w *pipeResponse) fail(err error) {
	w.once.Do(func() {
		w.err = err
		close(w.ready)
	})
	w.body.CloseWithError(err)
}

// pipeBody is the response body: closing it ends the handler's request.
type pipeBody struct {
	r      *io.PipeReader
	cancel context.CancelFunc
}

func (b *pipeBody) Read(p []byte) (int, error) { return b.r.Read(p) }

func (b *pipeBody) Close() error {
	b.r.CloseWithError(errBodyClosed)
	b.cancel()
	return nil
}

var errBodyClosed = errors.New("client: response body closed")
