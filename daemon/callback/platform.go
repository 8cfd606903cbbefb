package callback

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/plugboard/plugboard/daemon/innerapi"
	"github.com/plugboard/plugboard/daemon/protocol"
	"github.com/plugboard/plugboard/daemon/runtime"
)

// forward sends the call back to the platform's inner API and writes its
// reply: each frame of a stream as it arrives, or the one result.
func (s *Service) forward(ctx context.Context, k kind, cb *runtime.CallBack, r runtime.Reply) error {
	if s.base == "" {
		return errors.New(ErrNotConfigured)
	}
	resp, err := s.post(ctx, k.path, cb)
	if err != nil {
		return fmt.Errorf("%s: %w", k.failed, err)
	}
	defer resp.Body.Close()
	if innerapi.Streamed(k.path) {
		return s.stream(resp, k, r)
	}
	return s.unary(resp, k, r)
}

// post makes the request: the plugin's request object as JSON, with Dify's
// key header and Plugboard's plugin and depth headers.
func (s *Service) post(ctx context.Context, path string, cb *runtime.CallBack) (*http.Response, error) {
	body, err := json.Marshal(cb.Request)
	if err != nil {
		return nil, fmt.Errorf("encoding the request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.base+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(innerapi.HeaderKey, s.cfg.PlatformKey)
	req.Header.Set(innerapi.HeaderPlugin, cb.PluginID)
	req.Header.Set(innerapi.HeaderCallDepth, strconv.Itoa(cb.Depth+1))
	return s.client.Do(req)
}

// stream forwards each envelope of a length-prefixed stream as a response
// frame; an envelope with an error, one without data, or a broken frame
// ends it with that error (Dify's words: "read … failed: request failed: …").
func (s *Service) stream(resp *http.Response, k kind, r runtime.Reply) error {
	if resp.StatusCode != http.StatusOK {
		text, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		return fmt.Errorf("%s: request failed with status code: %d and respond with: %s", k.failed, resp.StatusCode, text)
	}
	frames := innerapi.NewFrameReader(resp.Body)
	for {
		payload, err := frames.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", k.readFailed, err)
		}
		var env innerapi.Response
		if err := json.Unmarshal(payload, &env); err != nil {
			return fmt.Errorf("%s: a frame is not the inner API's envelope: %w", k.readFailed, err)
		}
		if env.Failed() {
			return fmt.Errorf("%s: request failed: %s", k.readFailed, env.Error)
		}
		if !env.HasData() {
			return fmt.Errorf("%s: data is nil", k.readFailed)
		}
		if err := r.Send(protocol.BackwardsStream, env.Data); err != nil {
			return nil // the plugin is gone: nothing to tell it
		}
	}
}

// maxUnary bounds a unary reply's body.
const maxUnary = innerapi.MaxFrame

// unary checks the one envelope (data an object with the result's members)
// and forwards its data as a struct frame.
func (s *Service) unary(resp *http.Response, k kind, r runtime.Reply) error {
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxUnary+1))
	if err != nil {
		return fmt.Errorf("%s: reading the reply: %w", k.failed, err)
	}
	if len(body) > maxUnary {
		return fmt.Errorf("%s: the reply is over %d MiB", k.failed, maxUnary>>20)
	}
	var env innerapi.Response
	if err := json.Unmarshal(body, &env); err != nil {
		return fmt.Errorf("%s: the platform answered HTTP %d with a body that is not the inner API's envelope: %.200s", k.failed, resp.StatusCode, body)
	}
	if env.Failed() {
		return fmt.Errorf("%s: request failed: %s", k.failed, env.Error)
	}
	if !env.HasData() {
		return fmt.Errorf("%s: data is nil", k.failed)
	}
	data, err := k.validate(env.Data)
	if err != nil {
		return fmt.Errorf("%s: validate request failed: %w", k.failed, err)
	}
	r.Send(protocol.BackwardsStruct, data)
	return nil
}

// validate checks a unary result: an object holding k.result's members. A
// fetch_app result is the app's info inside the data, as Dify reads it.
func (k kind) validate(data json.RawMessage) (json.RawMessage, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil || obj == nil {
		return nil, fmt.Errorf("the result is not an object: %.100s", data)
	}
	for _, m := range k.result {
		if v, ok := obj[m]; !ok || string(v) == "null" {
			return nil, fmt.Errorf("the result has no %s", m)
		}
	}
	if k.path == innerapi.PathFetchApp {
		inner, ok := obj["data"]
		if !ok || string(inner) == "null" {
			return nil, errors.New("data is nil")
		}
		return inner, nil
	}
	return data, nil
}
