// Package extension calls API-based extensions (Dify's extension points:
// ping, external data tool, input and output moderation) on their
// endpoints, through the SSRF guard, with bounded time and answer size, and
// words every failure for the admin who configured the endpoint.
package extension

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/plugboard/plugboard/app/netguard"
)

// Extension points an API-based extension answers (Dify's
// APIBasedExtensionPoint).
const (
	PointPing             = "ping"
	PointExternalDataTool = "app.external_data_tool.query"
	PointModerationInput  = "app.moderation.input"
	PointModerationOutput = "app.moderation.output"
)

// Default timeouts of a call to an extension, as Dify's requestor.
const (
	DefaultConnectTimeout = 5 * time.Second
	DefaultReadTimeout    = 60 * time.Second
)

// maxAnswer is how much of an extension's answer is read.
const maxAnswer = 1 << 20

// excerptLen is how much of an unexpected answer an error message quotes.
const excerptLen = 100

// Caller sends extension points to endpoints through the SSRF guard.
type Caller struct {
	client   *http.Client
	timeouts netguard.Timeouts
	now      func() time.Time
}

// NewCaller returns a caller dialling through g; zero timeouts are Dify's
// (5 s to connect, 60 s to read).
func NewCaller(g *netguard.Guard, t netguard.Timeouts, now func() time.Time) *Caller {
	if t.Connect <= 0 {
		t.Connect = DefaultConnectTimeout
	}
	if t.Read <= 0 {
		t.Read = DefaultReadTimeout
	}
	return &Caller{client: g.Client(t), timeouts: t, now: now}
}

// Answer is what an endpoint answered.
type Answer struct {
	Status   int
	Duration time.Duration
	Body     []byte
}

// Call POSTs {"point":…,"params":…} with the key as a bearer token. Only a
// failure to get an answer at all is an error; any status is an answer.
func (x *Caller) Call(ctx context.Context, endpoint, key, point string, params any) (*Answer, error) {
	body, err := json.Marshal(map[string]any{"point": point, "params": params})
	if err != nil {
		return nil, err
	}
	// The transport bounds connecting and the wait for headers; this bounds
	// reading the body too.
	ctx, cancel := context.WithTimeout(ctx, x.timeouts.Connect+x.timeouts.Read)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	start := x.now()
	resp, err := x.client.Do(req)
	if err != nil {
		return nil, x.describe(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, x.describe(err)
	}
	return &Answer{Status: resp.StatusCode, Duration: x.now().Sub(start), Body: b}, nil
}

// Ping checks that the endpoint answers the ping point with
// {"result":"pong"}; its error says what went wrong.
func (x *Caller) Ping(ctx context.Context, endpoint, key string) error {
	a, err := x.Call(ctx, endpoint, key, PointPing, map[string]any{})
	if err != nil {
		return err
	}
	if a.Status != http.StatusOK {
		return fmt.Errorf("it answered status %d with %s", a.Status, excerpt(a.Body))
	}
	var pong struct {
		Result any `json:"result"`
	}
	if err := json.Unmarshal(a.Body, &pong); err != nil {
		return fmt.Errorf("its answer is not JSON: %s", excerpt(a.Body))
	}
	if pong.Result != "pong" {
		return fmt.Errorf(`it answered %s instead of {"result":"pong"}`, clip(a.Body))
	}
	return nil
}

// describe words a failed request: refused by the guard, timed out,
// refused or unreachable.
func (x *Caller) describe(err error) error {
	var refused *netguard.RefusedError
	var op *net.OpError
	var dns *net.DNSError
	switch {
	case errors.As(err, &refused):
		return refused
	case errors.As(err, &dns):
		return fmt.Errorf("the host %s cannot be found (%s)", dns.Name, dns.Err)
	case errors.As(err, &op) && op.Op == "dial" && op.Timeout():
		return fmt.Errorf("connecting timed out after %s", x.timeouts.Connect)
	case isTimeout(err):
		return fmt.Errorf("no answer within %s (read timeout)", x.timeouts.Read)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("the connection was refused: nothing is listening at %s", opAddr(op))
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return fmt.Errorf("the host is unreachable (%s)", opAddr(op))
	}
	if inner := errors.Unwrap(err); inner != nil {
		err = inner // drop url.Error's `Post "…":` prefix
	}
	return fmt.Errorf("the request failed: %s", strings.TrimPrefix(err.Error(), "net/http: "))
}

// isTimeout reports whether err is a timeout of any kind.
func isTimeout(err error) bool {
	var te interface{ Timeout() bool }
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &te) && te.Timeout())
}

func opAddr(op *net.OpError) string {
	if op == nil || op.Addr == nil {
		return "that address"
	}
	return op.Addr.String()
}

// excerpt quotes the start of an answer for an error message.
func excerpt(b []byte) string {
	s := clip(b)
	if s == "" {
		return "an empty body"
	}
	return "“" + s + "”"
}

// clip is the start of an answer on one line: spaces collapsed, control
// characters dropped, cut at excerptLen bytes.
func clip(b []byte) string {
	s := strings.Join(strings.Fields(strings.ToValidUTF8(string(b), "�")), " ")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	if len(s) > excerptLen {
		cut := excerptLen
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}
