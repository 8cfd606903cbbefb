package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"slices"

	"github.com/plugboard/plugboard/sdk"
)

// The demo's "speech" is a tone code, not a voice: each byte of the text
// (UTF-8) is two 30 ms tones, one per half-byte, at one of 16 pitches. The
// audio is a mono 16-bit WAV at 8 kHz, so its length follows the text (60
// ms a byte), and the demo's speech-to-text can hear the text back.
const (
	sampleRate = 8000
	// symbolSamples is one tone's length: 30 ms. A pitch is a whole number
	// of cycles in it (bin k is k·sampleRate/symbolSamples Hz, 33⅓ Hz
	// apart), so the tones are apart for the listener's Goertzel filter.
	symbolSamples = 240
	// fadeSamples soften each tone's edges (2 ms) against clicks.
	fadeSamples = 16
	amplitude   = 0.5 * math.MaxInt16
	// maxTTSBytes bounds a text: 2000 bytes are two minutes of tones.
	maxTTSBytes = 2000
)

// demoVoice is one of the demo's voices: its pitches are bins base,
// base+2, … base+30 (every other bin, so neighbours never blur).
type demoVoice struct {
	sdk.Voice
	base      int
	languages []string
}

// voices are the demo's two voices: low tones (400–1400 Hz) and high
// tones (1600–2600 Hz). The model's yaml lists the same.
var voices = []demoVoice{
	{sdk.Voice{Name: "Low tones (demo)", Value: "low"}, 12, []string{"en-US", "fr-FR"}},
	{sdk.Voice{Name: "High tones (demo)", Value: "high"}, 48, []string{"en-US", "de-DE"}},
}

// tts is the demo text-to-speech model: the text as tone code in a WAV.
type tts struct{}

// InvokeTTS writes the text's tones as one WAV.
func (tts) InvokeTTS(ctx context.Context, req *sdk.TTSRequest, w *sdk.AudioWriter) error {
	i := slices.IndexFunc(voices, func(v demoVoice) bool { return v.Value == req.Voice })
	if i < 0 {
		return sdk.Errorf(sdk.ErrTypeInvokeBadRequest, "The demo has no voice %q; its voices are low and high.", req.Voice)
	}
	if req.ContentText == "" {
		return sdk.Errorf(sdk.ErrTypeInvokeBadRequest, "There is no text to speak.")
	}
	if len(req.ContentText) > maxTTSBytes {
		return sdk.Errorf(sdk.ErrTypeInvokeBadRequest, "The demo speaks at most %d bytes of text at a time; this is %d.", maxTTSBytes, len(req.ContentText))
	}
	w.SetMimeType("audio/wav")
	_, err := w.Write(toneWAV([]byte(req.ContentText), voices[i].base))
	return err
}

// TTSVoices lists the voices, those of language when one is given.
func (tts) TTSVoices(ctx context.Context, req *sdk.TTSVoicesRequest) ([]sdk.Voice, error) {
	var out []sdk.Voice
	for _, v := range voices {
		if req.Language == "" || slices.Contains(v.languages, req.Language) {
			out = append(out, v.Voice)
		}
	}
	return out, nil
}

// toneWAV is text as tones from bin base up: the WAV's bytes.
func toneWAV(text []byte, base int) []byte {
	samples := make([]int16, 0, len(text)*2*symbolSamples)
	for _, b := range text {
		for _, nibble := range []byte{b >> 4, b & 0xf} {
			samples = appendTone(samples, base+2*int(nibble))
		}
	}
	return wav(samples)
}

// appendTone appends one symbol of bin k's sine, its edges faded.
func appendTone(samples []int16, k int) []int16 {
	for n := range symbolSamples {
		gain := 1.0
		if edge := min(n, symbolSamples-1-n); edge < fadeSamples {
			gain = 0.5 - 0.5*math.Cos(math.Pi*float64(edge)/fadeSamples)
		}
		s := amplitude * gain * math.Sin(2*math.Pi*float64(k*n)/symbolSamples)
		samples = append(samples, int16(math.Round(s)))
	}
	return samples
}

// wav is a canonical 44-byte-header PCM WAV of mono 16-bit samples.
func wav(samples []int16) []byte {
	var b bytes.Buffer
	data := uint32(2 * len(samples))
	b.WriteString("RIFF")
	le(&b, 36+data)
	b.WriteString("WAVEfmt ")
	le(&b, uint32(16))
	le(&b, uint16(1)) // PCM
	le(&b, uint16(1)) // mono
	le(&b, uint32(sampleRate))
	le(&b, uint32(sampleRate*2)) // bytes a second
	le(&b, uint16(2))            // bytes a frame
	le(&b, uint16(16))           // bits a sample
	b.WriteString("data")
	le(&b, data)
	le(&b, samples)
	return b.Bytes()
}

func le(b *bytes.Buffer, v any) { _ = binary.Write(b, binary.LittleEndian, v) }
