package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/plugboard/plugboard/daemon/apispec"
)

// InProcess makes the client call h — the daemon's API handler, running in
// this process — with no socket in between: each request is served by h in
// a goroutine of its own and its response body streams through a pipe, so
// the bytes, statuses and streams are the API's own, without the TCP round
// trip, its system calls and its transport goroutines. Closing a response
// body, or the request's context ending, cancels the handler's request as
// a closed connection would. Tool invocations, the commonest call, go to
// direct instead when it is set (the same daemon's Direct dispatch: the
// route's own checks, session and frames, read in the caller's goroutine,
// without encoding them). The embedded daemon's app uses it; every other
// client goes over HTTP.
func InProcess(h http.Handler, direct apispec.DirectDispatcher) Option {
	return func(c *Client) {
		c.hc = &http.Client{Transport: handlerTransport{h: h}}
		c.direct = direct
	}
}

type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancel(req.Context())
	sreq := req.Clone(ctx)
	sreq.RequestURI, sreq.RemoteAddr, sreq.Host = req.URL.RequestURI(), "127.0.0.1:0", req.URL.Host
	if sreq.Body == nil {
		sreq.Body = http.NoBody
	}
	p := newChunkPipe()
	// The caller's context ending fails its reads, as it does over HTTP
	// (the handler, whose context ends too, may end its answer cleanly).
	stop := context.AfterFunc(req.Context(), func() { p.closeWrite(req.Context().Err()) })
	w := &pipeResponse{header: http.Header{}, body: p, ready: make(chan struct{})}
	go func() {
		defer sreq.Body.Close() // as a server closes a request's body
		defer func() {
			if v := recover(); v != nil {
				w.fail(fmt.Errorf("daemon handler panicked: %v", v))
				return
			}
			w.WriteHeader(http.StatusOK)      // a handler that wrote nothing answered 200, empty
			p.closeWrite(req.Context().Err()) // nil: the caller reads the end
		}()
		t.h.ServeHTTP(w, sreq)
	}()
	select {
	case <-w.ready:
	case <-ctx.Done():
		p.closeRead(ctx.Err())
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
		Body: &pipeBody{p: p, cancel: func() { stop(); cancel() }},
	}, nil
}

// pipeResponse is the handler's http.ResponseWriter: the header is handed
// over at WriteHeader, the body written into the pipe the client reads.
type pipeResponse struct {
	header http.Header
	body   *chunkPipe

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

// Flush sends nothing more: what was written is the reader's already; it
// sends the header if not yet sent.
func (w *pipeResponse) Flush() { w.WriteHeader(http.StatusOK) }

// fail ends the response with err: before the header the round trip
// returns it, after the header the body's reader gets it.
func (w *pipeResponse) fail(err error) {
	w.once.Do(func() {
		w.err = err
		close(w.ready)
	})
	w.body.closeWrite(err)
}

// pipeBody is the response body: closing it ends the handler's request.
type pipeBody struct {
	p      *chunkPipe
	cancel context.CancelFunc
}

func (b *pipeBody) Read(p []byte) (int, error) { return b.p.Read(p) }

func (b *pipeBody) Close() error {
	b.p.closeRead(errBodyClosed)
	b.cancel()
	return nil
}

var errBodyClosed = errors.New("client: response body closed")

// chunkPipe carries the handler's writes to the reader as chunks, up to
// pipeChunks writes ahead (not bytes: a stream's writes are frames):
// unlike io.Pipe, a write does not wait for the reader to take it, yet a
// reader that stops reading stops the writer. A write after either end closed fails; the reader gets what
// was written before the writer closed, then its error (io.EOF if nil).
type chunkPipe struct {
	chunks  chan []byte
	rest    []byte        // what the reader has of its current chunk
	wclosed chan struct{} // the writer closed (werr says why)
	rclosed chan struct{} // the reader closed (rerr says why)
	wonce   sync.Once
	ronce   sync.Once
	werr    error
	rerr    error
}

const pipeChunks = 64

func newChunkPipe() *chunkPipe {
	return &chunkPipe{chunks: make(chan []byte, pipeChunks), wclosed: make(chan struct{}), rclosed: make(chan struct{})}
}

func (p *chunkPipe) Write(b []byte) (int, error) {
	select {
	case <-p.wclosed:
		return 0, io.ErrClosedPipe
	case <-p.rclosed:
		return 0, p.rerr
	default:
	}
	chunk := append([]byte(nil), b...)
	select {
	case p.chunks <- chunk:
		return len(b), nil
	case <-p.wclosed:
		return 0, io.ErrClosedPipe
	case <-p.rclosed:
		return 0, p.rerr
	}
}

func (p *chunkPipe) Read(b []byte) (int, error) {
	for len(p.rest) == 0 {
		select {
		case <-p.rclosed:
			return 0, io.ErrClosedPipe
		default:
		}
		select {
		case p.rest = <-p.chunks:
		case <-p.wclosed:
			select {
			case p.rest = <-p.chunks: // what was written before the close
			default:
				if p.werr != nil {
					return 0, p.werr
				}
				return 0, io.EOF
			}
		case <-p.rclosed:
			return 0, io.ErrClosedPipe
		}
	}
	n := copy(b, p.rest)
	p.rest = p.rest[n:]
	return n, nil
}

// closeWrite ends the writes; the first close says why.
func (p *chunkPipe) closeWrite(err error) {
	p.wonce.Do(func() {
		p.werr = err
		close(p.wclosed)
	})
}

// closeRead ends the reads; writes fail with err from now on.
func (p *chunkPipe) closeRead(err error) {
	p.ronce.Do(func() {
		p.rerr = err
		close(p.rclosed)
	})
}
