package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"unicode/utf8"

	"github.com/plugboard/plugboard/sdk"
)

// speech2text is the demo speech-to-text model. It understands no speech:
// it reads a WAV's header and, when the audio is the demo TTS's tone code,
// hears the text back from the tones. Any other WAV is described (length,
// rate, channels); audio that is not a WAV is refused.
type speech2text struct{}

// Transcribe answers the text of the demo's tones, else a description of
// the WAV in brackets.
func (speech2text) Transcribe(ctx context.Context, req *sdk.Speech2TextRequest) (string, error) {
	w, err := parseWAV(req.Audio)
	if err != nil {
		return "", sdk.Errorf(sdk.ErrTypeInvokeBadRequest, "The demo speech-to-text reads only WAV files: %v.", err)
	}
	if text, ok := hearTones(w); ok {
		return text, nil
	}
	return fmt.Sprintf("[Demo speech-to-text — no demo tones heard, and the demo understands no speech. "+
		"The file is a WAV of %.2f s: %d Hz, %d channel(s), %d-bit.]", w.seconds(), w.rate, w.channels, w.bits), nil
}

// wavFile is what a WAV's header says and its sample data.
type wavFile struct {
	format, channels, bits uint16
	rate                   uint32
	data                   []byte
}

// seconds is the audio's length.
func (w *wavFile) seconds() float64 {
	frame := int(w.channels) * int(w.bits) / 8
	if frame == 0 || w.rate == 0 {
		return 0
	}
	return float64(len(w.data)/frame) / float64(w.rate)
}

// parseWAV reads a RIFF/WAVE file's fmt and data chunks.
func parseWAV(b []byte) (*wavFile, error) {
	if len(b) < 12 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, fmt.Errorf("this file (%d bytes) does not start with a RIFF/WAVE header", len(b))
	}
	w := &wavFile{}
	var sawFmt, sawData bool
	for rest := b[12:]; len(rest) >= 8; {
		id, size := string(rest[:4]), int(binary.LittleEndian.Uint32(rest[4:8]))
		rest = rest[8:]
		size = min(size, len(rest)) // a truncated last chunk keeps what is there
		body := rest[:size]
		switch id {
		case "fmt ":
			if size < 16 {
				return nil, fmt.Errorf("its fmt chunk is %d bytes, too short", size)
			}
			w.format, w.channels = binary.LittleEndian.Uint16(body), binary.LittleEndian.Uint16(body[2:])
			w.rate, w.bits = binary.LittleEndian.Uint32(body[4:]), binary.LittleEndian.Uint16(body[14:])
			sawFmt = true
		case "data":
			w.data, sawData = body, true
		}
		rest = rest[min(size+size%2, len(rest)):] // chunks are padded to even sizes
	}
	if !sawFmt || !sawData {
		return nil, fmt.Errorf("it has no fmt or no data chunk")
	}
	return w, nil
}

// hearTones decodes the demo TTS's tone code: 8 kHz mono 16-bit, whole
// pairs of 30 ms tones, each clearly one pitch of one voice, the bytes
// valid UTF-8. Anything else is not the demo's tones.
func hearTones(w *wavFile) (string, bool) {
	const pair = 2 * symbolSamples * 2 // two tones of 16-bit samples
	if w.format != 1 || w.channels != 1 || w.bits != 16 || w.rate != sampleRate || len(w.data) == 0 || len(w.data)%pair != 0 {
		return "", false
	}
	var text []byte
	base := -1
	for at := 0; at < len(w.data); at += pair {
		var b byte
		for half := range 2 {
			k, ok := pitch(w.data[at+half*2*symbolSamples:][:2*symbolSamples])
			v, nibble := voiceOf(k)
			if !ok || v < 0 || (base >= 0 && v != base) {
				return "", false
			}
			base, b = v, b<<4|nibble
		}
		text = append(text, b)
	}
	if !utf8.Valid(text) {
		return "", false
	}
	return string(text), true
}

// pitch is the bin of the one tone in a symbol's samples, false when no
// bin holds most of its energy (Goertzel's filter per bin).
func pitch(pcm []byte) (int, bool) {
	x := make([]float64, symbolSamples)
	var energy float64
	for n := range x {
		x[n] = float64(int16(binary.LittleEndian.Uint16(pcm[2*n:])))
		energy += x[n] * x[n]
	}
	best, bestPower := 0, 0.0
	for k := 1; k < symbolSamples/2; k++ {
		c := 2 * math.Cos(2*math.Pi*float64(k)/symbolSamples)
		var s1, s2 float64
		for _, v := range x {
			s1, s2 = v+c*s1-s2, s1
		}
		if p := s1*s1 + s2*s2 - c*s1*s2; p > bestPower {
			best, bestPower = k, p
		}
	}
	// A pure tone's bin holds energy·N/2; a faded one a little less.
	return best, energy > 0 && bestPower > 0.6*energy*symbolSamples/2
}

// voiceOf is the voice (its base bin) and half-byte of bin k, base -1 when
// k is no voice's pitch.
func voiceOf(k int) (base int, nibble byte) {
	for _, v := range voices {
		if d := k - v.base; d >= 0 && d <= 30 && d%2 == 0 {
			return v.base, byte(d / 2)
		}
	}
	return -1, 0
}
