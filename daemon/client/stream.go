package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/protocol"
)

// maxLineSlack is room in one SSE line beyond the blob cap's base64 (framing, meta).
const maxLineSlack = 1 << 20

// Message is one typed tool message of a stream. Type says which fields are
// set; blob_chunk messages arrive reassembled as one message of type blob.
type Message struct {
	Type     string                    // protocol.MessageText, MessageJSON, …
	Text     string                    // text, link, image, image_link, binary_link
	JSON     any                       // json
	Blob     []byte                    // blob (also reassembled blob_chunks)
	MIME     string                    // blob: meta mime_type
	Filename string                    // blob: meta filename
	Variable *protocol.VariableMessage // variable
	Log      *protocol.LogMessage      // log
	Link     string                    // link, image_link, binary_link: the URL
	Raw      json.RawMessage           // the message as received (the last chunk for blobs)
	Meta     map[string]any            // the message's meta
	// CallBack reports a call back the plugin made (Type MessageCallBack),
	// sent only to a context made with WithCallBackEvents.
	CallBack *apispec.CallBackEvent
}

// MessageCallBack is the Type of a Message reporting one of the plugin's
// calls back (Plugboard's; never a tool message a plugin sends).
const MessageCallBack = apispec.EventCallBack

// ToolStream reads a dispatch reply's SSE frames, or the frames of an
// in-process dispatch (InProcess).
type ToolStream struct {
	body io.ReadCloser
	r    *bufio.Reader
	// frames, when set, are the frames of an in-process dispatch (body and
	// r are nil), which end as ctx does.
	frames  apispec.Frames
	ctx     context.Context
	maxBlob int64
	maxLine int
	blobs   map[string]*partialBlob
	line    []byte
	err     error // sticky end: io.EOF or the stream's error
}

// partialBlob is a blob being reassembled from chunks.
type partialBlob struct {
	next int
	data bytes.Buffer
	meta map[string]any
}

func newToolStream(body io.ReadCloser, maxBlob int64) *ToolStream {
	return &ToolStream{body: body, r: bufio.NewReaderSize(body, 16<<10), maxBlob: maxBlob,
		maxLine: int(maxBlob/3*4) + maxLineSlack, blobs: map[string]*partialBlob{}}
}

// newDirectStream reads an in-process dispatch's frames.
func newDirectStream(ctx context.Context, frames apispec.Frames, maxBlob int64) *ToolStream {
	return &ToolStream{frames: frames, ctx: ctx, maxBlob: maxBlob, blobs: map[string]*partialBlob{}}
}

// Close ends the stream; before its end this cancels the invocation.
func (s *ToolStream) Close() error {
	if s.frames != nil {
		s.frames.Close()
		return nil
	}
	return s.body.Close()
}

// Next returns the next message, io.EOF after the last one, or the stream's
// error (an *Error for the daemon's error frames).
func (s *ToolStream) Next() (*Message, error) {
	for {
		name, raw, err := s.nextFrame()
		if err != nil {
			return nil, err
		}
		if name == apispec.EventCallBack {
			ev := new(apispec.CallBackEvent)
			if err := json.Unmarshal(raw, ev); err != nil {
				s.err = plugboard.Errorf(plugboard.EINTERNAL, "call back event %.200q: %v", raw, err)
				return nil, s.err
			}
			return &Message{Type: MessageCallBack, CallBack: ev, Raw: raw}, nil
		}
		m, err := s.decode(raw)
		if err != nil {
			s.err = err
			return nil, err
		}
		if m != nil {
			return m, nil
		}
	}
}

// nextData returns the data of the next success frame, skipping
// Plugboard's named events.
func (s *ToolStream) nextData() (json.RawMessage, error) {
	for {
		name, data, err := s.nextFrame()
		if err != nil || name == "" {
			return data, err
		}
	}
}

// nextFrame returns the event name and data of the next success frame.
func (s *ToolStream) nextFrame() (string, json.RawMessage, error) {
	if s.err != nil {
		return "", nil, s.err
	}
	if s.frames != nil {
		return s.nextDirect()
	}
	name, frame, err := s.readEvent()
	if err == nil {
		var env apispec.Envelope
		if jerr := json.Unmarshal(frame, &env); jerr != nil {
			err = plugboard.Errorf(plugboard.EINTERNAL, "stream frame is not a JSON envelope: %.200q", frame)
		} else if env.Code != apispec.CodeOK {
			err = errorFrom(http.StatusOK, &env)
		} else {
			return name, env.Data, nil
		}
	}
	if err == io.EOF && len(s.blobs) > 0 {
		err = plugboard.Errorf(plugboard.EINVALID, "stream ended inside a blob (no end chunk)")
	}
	s.err = err
	return "", nil, err
}

// nextDirect is nextFrame for an in-process dispatch: its frames as they
// would arrive over HTTP, their envelopes already opened.
func (s *ToolStream) nextDirect() (string, json.RawMessage, error) {
	name, data, err := s.frames.Next()
	if err == nil {
		return name, data, nil
	}
	switch {
	case err == io.EOF && len(s.blobs) > 0:
		err = plugboard.Errorf(plugboard.EINVALID, "stream ended inside a blob (no end chunk)")
	case err == io.EOF:
	case s.ctx.Err() != nil:
		err = s.ctx.Err() // as a read over HTTP fails once the caller's context ends
	default:
		err = directError(err)
	}
	s.err = err
	return "", nil, err
}

// directError is an in-process dispatch's error as the client reads it over
// HTTP: a *DirectError becomes the *Error its status and envelope make.
func directError(err error) error {
	var de *apispec.DirectError
	if errors.As(err, &de) {
		return errorFrom(de.Status, &de.Envelope)
	}
	return err
}

// readEvent reads SSE lines up to a blank line and returns the event's
// name ("" for a plain data frame) and data.
func (s *ToolStream) readEvent() (string, []byte, error) {
	var data []byte
	var name string
	for {
		line, err := s.readLine()
		if err == io.EOF && len(data) > 0 {
			return name, data, nil
		}
		if err != nil {
			return "", nil, err
		}
		switch {
		case len(line) == 0 && data != nil:
			return name, data, nil
		case bytes.HasPrefix(line, []byte("event:")):
			name = string(bytes.TrimSpace(line[6:]))
		case bytes.HasPrefix(line, []byte("data:")):
			v := bytes.TrimPrefix(line[5:], []byte(" "))
			if data == nil {
				data = make([]byte, 0, len(v))
			} else {
				data = append(data, '\n')
			}
			data = append(data, v...)
		}
	}
}

// readLine reads one line without its line ending, up to maxLine bytes.
func (s *ToolStream) readLine() ([]byte, error) {
	s.line = s.line[:0]
	for {
		chunk, err := s.r.ReadSlice('\n')
		s.line = append(s.line, chunk...)
		if len(s.line) > s.maxLine {
			return nil, plugboard.Errorf(plugboard.EINVALID, "stream line longer than %d bytes", s.maxLine)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err == io.EOF && len(s.line) > 0 {
			err = nil
		}
		if err != nil {
			return nil, err
		}
		return bytes.TrimRight(s.line, "\r\n"), nil
	}
}

// decode types a tool message; it returns nil for a blob chunk that is not
// the last of its blob.
func (s *ToolStream) decode(raw json.RawMessage) (*Message, error) {
	var tm protocol.ToolMessage
	if err := json.Unmarshal(raw, &tm); err != nil {
		return nil, plugboard.Errorf(plugboard.EINVALID, "tool message is not valid JSON: %v", err)
	}
	m := &Message{Type: tm.Type, Raw: raw, Meta: tm.Meta}
	var err error
	switch tm.Type {
	case protocol.MessageText, protocol.MessageImage:
		err = s.text(tm.Message, m)
	case protocol.MessageLink, protocol.MessageImageLink, protocol.MessageBinaryLink:
		if err = s.text(tm.Message, m); err == nil {
			m.Link = m.Text
		}
	case protocol.MessageJSON:
		var jm protocol.JSONMessage
		err = json.Unmarshal(tm.Message, &jm)
		m.JSON = jm.JSONObject
	case protocol.MessageBlob:
		var bm protocol.BlobMessage
		err = json.Unmarshal(tm.Message, &bm)
		m.Blob = bm.Blob
		m.MIME, m.Filename = metaString(tm.Meta, "mime_type"), metaString(tm.Meta, "filename")
	case protocol.MessageBlobChunk:
		return s.blobChunk(&tm, raw)
	case protocol.MessageVariable:
		m.Variable = new(protocol.VariableMessage)
		err = json.Unmarshal(tm.Message, m.Variable)
	case protocol.MessageLog:
		m.Log = new(protocol.LogMessage)
		err = json.Unmarshal(tm.Message, m.Log)
	}
	if err != nil {
		return nil, plugboard.Errorf(plugboard.EINVALID, "%s message is malformed: %v", tm.Type, err)
	}
	return m, nil
}

// text reads a {"text": …} message.
func (s *ToolStream) text(raw json.RawMessage, m *Message) error {
	var t protocol.TextMessage
	err := json.Unmarshal(raw, &t)
	m.Text = t.Text
	return err
}

// blobChunk adds a chunk to its blob and returns the blob after its last chunk.
func (s *ToolStream) blobChunk(tm *protocol.ToolMessage, raw json.RawMessage) (*Message, error) {
	var bc protocol.BlobChunkMessage
	if err := json.Unmarshal(tm.Message, &bc); err != nil {
		return nil, plugboard.Errorf(plugboard.EINVALID, "blob_chunk message is malformed: %v", err)
	}
	p := s.blobs[bc.ID]
	if p == nil {
		p = &partialBlob{meta: map[string]any{}}
		s.blobs[bc.ID] = p
	}
	if err := s.checkChunk(&bc, p); err != nil {
		return nil, err
	}
	p.data.Write(bc.Blob)
	p.next++
	for k, v := range tm.Meta {
		p.meta[k] = v
	}
	if !bc.End {
		return nil, nil
	}
	delete(s.blobs, bc.ID)
	return &Message{Type: protocol.MessageBlob, Blob: p.data.Bytes(), Raw: raw, Meta: p.meta,
		MIME: metaString(p.meta, "mime_type"), Filename: metaString(p.meta, "filename")}, nil
}

// checkChunk enforces the chunk size, the sequence and the blob cap.
func (s *ToolStream) checkChunk(bc *protocol.BlobChunkMessage, p *partialBlob) error {
	switch {
	case len(bc.Blob) > protocol.MaxBlobChunk:
		return plugboard.Errorf(plugboard.EINVALID, "blob %s chunk %d is %d bytes, over the %d-byte chunk limit",
			bc.ID, bc.Sequence, len(bc.Blob), protocol.MaxBlobChunk)
	case bc.Sequence != p.next:
		return plugboard.Errorf(plugboard.EINVALID, "blob %s chunk %d is out of sequence (expected %d)", bc.ID, bc.Sequence, p.next)
	case int64(bc.TotalLength) > s.maxBlob || int64(p.data.Len()+len(bc.Blob)) > s.maxBlob:
		return plugboard.Errorf(plugboard.EINVALID, "blob %s is larger than the %d-byte limit", bc.ID, s.maxBlob)
	}
	return nil
}

// metaString returns a string meta value.
func metaString(meta map[string]any, key string) string {
	v, _ := meta[key].(string)
	return v
}

// String describes a message briefly (for logs and the CLI).
func (m *Message) String() string {
	switch {
	case m.Blob != nil:
		return fmt.Sprintf("%s %s %q (%d bytes)", m.Type, m.MIME, m.Filename, len(m.Blob))
	case m.Text != "":
		return m.Type + ": " + m.Text
	}
	return m.Type + ": " + string(m.Raw)
}
