package innerapi

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// The length-prefixed framing of a streamed reply, as Dify's
// parser.LengthPrefixedChunking reads it (all little endian):
//
//	byte 0     magic 0x0f
//	byte 1     reserved (0)
//	bytes 2-3  header length, u16 = 10
//	bytes 4-7  payload length, u32 (the header's first 4 bytes)
//	bytes 8-13 reserved (0)
//	payload
const (
	// Magic is the first byte of every frame.
	Magic byte = 0x0f
	// headerLength is the only header length Dify accepts.
	headerLength = 10
	// prefixLength is the fixed part before the payload.
	prefixLength = 4 + headerLength
)

// MaxFrame is the largest payload a FrameReader accepts by default: Dify's
// daemon reads calls back's streams with a 30 MiB chunk limit.
const MaxFrame = 30 << 20

// WriteFrame writes one length-prefixed frame holding payload in a single
// Write, so frames written by concurrent writers under a lock never
// interleave and an http.ResponseWriter gets whole frames.
func WriteFrame(w io.Writer, payload []byte) error {
	if uint64(len(payload)) > 0xffffffff {
		return fmt.Errorf("innerapi: frame of %d bytes is too large", len(payload))
	}
	buf := make([]byte, prefixLength+len(payload))
	buf[0] = Magic
	binary.LittleEndian.PutUint16(buf[2:4], headerLength)
	binary.LittleEndian.PutUint32(buf[4:8], uint32(len(payload)))
	copy(buf[prefixLength:], payload)
	_, err := w.Write(buf)
	return err
}

// FrameReader reads the frames of a length-prefixed stream one at a time.
type FrameReader struct {
	r   io.Reader
	max uint32
	buf []byte
}

// NewFrameReader reads frames from r, refusing any payload over MaxFrame.
func NewFrameReader(r io.Reader) *FrameReader {
	return &FrameReader{r: r, max: MaxFrame}
}

// SetMax changes the largest payload accepted.
func (f *FrameReader) SetMax(n uint32) { f.max = n }

// ErrFrame is wrapped by every error about a malformed stream.
var ErrFrame = errors.New("innerapi: malformed frame")

// Next returns the next frame's payload, valid until the next call. It
// returns io.EOF when the stream ends cleanly between frames, and an error
// wrapping ErrFrame (or io.ErrUnexpectedEOF) for a bad or cut frame.
func (f *FrameReader) Next() ([]byte, error) {
	var prefix [prefixLength]byte
	if _, err := io.ReadFull(f.r, prefix[:4]); err != nil {
		if err == io.EOF {
			return nil, io.EOF
		}
		return nil, fmt.Errorf("%w: reading the prefix: %w", ErrFrame, err)
	}
	if prefix[0] != Magic {
		return nil, fmt.Errorf("%w: magic number mismatch: %d", ErrFrame, prefix[0])
	}
	if n := binary.LittleEndian.Uint16(prefix[2:4]); n != headerLength {
		return nil, fmt.Errorf("%w: header length mismatch: %d", ErrFrame, n)
	}
	if _, err := io.ReadFull(f.r, prefix[4:]); err != nil {
		return nil, fmt.Errorf("%w: reading the header: %w", ErrFrame, noEOF(err))
	}
	n := binary.LittleEndian.Uint32(prefix[4:8])
	if n > f.max {
		return nil, fmt.Errorf("%w: data length is too long: %d (at most %d)", ErrFrame, n, f.max)
	}
	if uint32(cap(f.buf)) < n {
		f.buf = make([]byte, n)
	}
	f.buf = f.buf[:n]
	if _, err := io.ReadFull(f.r, f.buf); err != nil {
		return nil, fmt.Errorf("%w: reading %d bytes of data: %w", ErrFrame, n, noEOF(err))
	}
	return f.buf, nil
}

// noEOF turns a clean EOF inside a frame into an unexpected one.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
