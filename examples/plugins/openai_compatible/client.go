package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	neturl "net/url"
	"strconv"
	"strings"
	"time"

	"github.com/plugboard/plugboard/sdk"
)

// defaultTimeout is how long the server may stay silent when the model's
// credentials set no timeout.
const defaultTimeout = 60 * time.Second

// config is a model's credentials, read.
type config struct {
	baseURL     string // without a trailing slash
	apiKey      string
	model       string
	contextSize int
	maxTokens   int // the upper bound of the max_tokens parameter
	toolCalls   bool
	vision      bool
	rerankURL   string
	timeout     time.Duration
	// inputPrice and outputPrice are what the model costs per million
	// tokens in USD, decimals ("" when not given).
	inputPrice, outputPrice string
}

// readConfig reads and checks a model's credentials.
func readConfig(req *sdk.ModelRequest) (config, error) {
	c := req.Credentials
	cfg := config{
		baseURL: strings.TrimRight(strings.TrimSpace(c.String("endpoint_url")), "/"),
		apiKey:  strings.TrimSpace(c.String("api_key")), model: req.Model,
		contextSize: atoiOr(c.String("context_size"), 4096), maxTokens: atoiOr(c.String("max_tokens_to_sample"), 4096),
		toolCalls: c.String("function_calling_type") == "tool_call", vision: c.Bool("vision_support"),
		rerankURL: strings.TrimSpace(c.String("rerank_endpoint_url")), timeout: defaultTimeout,
		inputPrice: strings.TrimSpace(c.String("input_price")), outputPrice: strings.TrimSpace(c.String("output_price")),
	}
	for _, price := range []string{cfg.inputPrice, cfg.outputPrice} {
		if f, err := strconv.ParseFloat(price, 64); price != "" && (err != nil || f < 0) {
			return cfg, sdk.Errorf(sdk.ErrTypeInvokeBadRequest, "price %q is not a number of dollars of zero or more", price)
		}
	}
	if s := c.String("timeout"); s != "" {
		secs, err := strconv.ParseFloat(s, 64)
		if err != nil || secs <= 0 {
			return cfg, sdk.Errorf(sdk.ErrTypeInvokeBadRequest, "timeout %q is not a number of seconds above zero", s)
		}
		cfg.timeout = time.Duration(secs * float64(time.Second))
	}
	if err := checkURL(cfg.baseURL); err != nil {
		return cfg, err
	}
	if cfg.rerankURL != "" {
		return cfg, checkURL(cfg.rerankURL)
	}
	return cfg, nil
}

// checkURL accepts an http or https URL with a host.
func checkURL(raw string) error {
	u, err := neturl.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return sdk.Errorf(sdk.ErrTypeInvokeBadRequest, "%q is not an http or https URL (such as http://ollama:11434/v1)", redacted(raw))
	}
	return nil
}

func atoiOr(s string, def int) int {
	if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil && n > 0 {
		return n
	}
	return def
}

// upstream sends the requests of every model to their servers.
type upstream struct{ http *http.Client }

// errSilent is the cause of a request cancelled because the server said
// nothing for longer than the timeout.
var errSilent = errors.New("the server stopped answering")

// exchange is one request to the server: its response and the watchdog that
// cancels it when the server is silent for longer than the timeout; read
// calls alive after each piece, and close when done.
type exchange struct {
	resp    *http.Response
	ctx     context.Context
	timer   *time.Timer
	timeout time.Duration
	cancel  context.CancelCauseFunc
	url     string
}

// post sends body as JSON to url and returns the exchange once the server
// answered with a 2xx; any other answer, a connection failure or silence
// becomes the matching invoke error.
func (cl *upstream) post(ctx context.Context, cfg config, url string, body any) (*exchange, error) {
	payload, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	ex := &exchange{ctx: ctx, cancel: cancel, timeout: cfg.timeout, url: redacted(url)}
	ex.timer = time.AfterFunc(cfg.timeout, func() { cancel(errSilent) })
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(payload))
	if err != nil {
		ex.close()
		return nil, sdk.Errorf(sdk.ErrTypeInvokeBadRequest, "bad URL %s", ex.url)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if cfg.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+cfg.apiKey)
	}
	ex.resp, err = cl.http.Do(req)
	if err != nil {
		defer ex.close()
		return nil, ex.failed(err)
	}
	if ex.resp.StatusCode/100 != 2 {
		defer ex.close()
		return nil, newStatusError(ex.resp, ex.url)
	}
	ex.alive()
	return ex, nil
}

// alive restarts the silence timeout.
func (ex *exchange) alive() { ex.timer.Reset(ex.timeout) }

// close stops the watchdog and releases the response.
func (ex *exchange) close() {
	ex.timer.Stop()
	if ex.resp != nil {
		ex.resp.Body.Close()
	}
	ex.cancel(nil)
}

// failed turns a transport or read error into the error the user sees: the
// daemon's cancel as it is, silence and connection failures as an
// InvokeConnectionError.
func (ex *exchange) failed(err error) error {
	switch cause := context.Cause(ex.ctx); {
	case errors.Is(cause, errSilent):
		return sdk.Errorf(sdk.ErrTypeInvokeConnection, "%s gave no answer within %s", ex.url, ex.timeout)
	case cause != nil:
		return cause // the call was cancelled
	}
	var uerr *neturl.Error
	if errors.As(err, &uerr) {
		err = uerr.Err // the URL is in the message already
	}
	return sdk.Errorf(sdk.ErrTypeInvokeConnection, "cannot reach %s: %v", ex.url, err)
}

// redacted is the URL as messages show it: without a password.
func redacted(raw string) string {
	u, err := neturl.Parse(raw)
	if err != nil {
		return "the configured URL"
	}
	return u.Redacted()
}

// decodeJSON reads the whole answer into v.
func (ex *exchange) decodeJSON(v any) error {
	defer ex.close()
	if err := json.NewDecoder(io.LimitReader(ex.resp.Body, 256<<20)).Decode(v); err != nil {
		if ex.ctx.Err() != nil {
			return ex.failed(err)
		}
		return sdk.Errorf(sdk.ErrTypeInvokeModel, "%s answered something that is not the JSON expected: %v", ex.url, err)
	}
	return nil
}

// newStatusError is the invoke error of a non-2xx answer, with the
// server's own message (OpenAI's {"error": {"message"}}, or the body's text).
func newStatusError(resp *http.Response, url string) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	msg := serverMessage(body)
	if msg == "" {
		msg = http.StatusText(resp.StatusCode)
	}
	return &statusError{status: resp.StatusCode,
		err: sdk.InvokeErrorForStatus(resp.StatusCode, fmt.Sprintf("%s (HTTP %d from %s)", msg, resp.StatusCode, url))}
}

// statusError is the invoke error of an answer, with its status.
type statusError struct {
	status int
	err    *sdk.Error
}

func (e *statusError) Error() string { return e.err.Error() }

// Unwrap lets the SDK find the invoke error's type.
func (e *statusError) Unwrap() error { return e.err }

// serverMessage finds the message in an error body: error.message, error
// (a string), message or detail, else the text itself.
func serverMessage(body []byte) string {
	var e struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
		Detail  any             `json:"detail"`
	}
	if json.Unmarshal(body, &e) == nil {
		var inner struct {
			Message string `json:"message"`
		}
		var s string
		switch {
		case json.Unmarshal(e.Error, &inner) == nil && inner.Message != "":
			return inner.Message
		case json.Unmarshal(e.Error, &s) == nil && s != "":
			return s
		case e.Message != "":
			return e.Message
		case e.Detail != nil:
			return fmt.Sprint(e.Detail)
		}
	}
	return strings.TrimSpace(string(body))
}
