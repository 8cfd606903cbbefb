package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/protocol"
	"github.com/plugboard/plugboard/sdk"
	"github.com/plugboard/plugboard/sdk/sdktest"
)

// speak asks the plugin for text's audio in voice and joins its chunks.
func speak(t *testing.T, c *sdktest.Conn, session, text, voice string) []byte {
	t.Helper()
	c.ModelRequest(t, session, "invoke_tts", map[string]any{"provider": provider, "model_type": "tts", "model": "demo-tts",
		"content_text": text, "voice": voice, "tenant_id": "t"})
	var audio []byte
	for _, raw := range sdktest.Chunks(t, c.Session(t, session)) {
		ch := sdktest.Decode[protocol.TTSChunk](t, raw)
		if ch.MIMEType != "audio/wav" {
			t.Fatalf("mime type %q", ch.MIMEType)
		}
		b, err := hex.DecodeString(ch.Result)
		if err != nil {
			t.Fatal(err)
		}
		audio = append(audio, b...)
	}
	return audio
}

// transcribe asks the plugin for audio's text.
func transcribe(t *testing.T, c *sdktest.Conn, session string, audio []byte) []sdktest.Message {
	t.Helper()
	c.ModelRequest(t, session, "invoke_speech2text", map[string]any{"provider": provider, "model_type": "speech2text",
		"model": "demo-speech2text", "file": hex.EncodeToString(audio)})
	return c.Session(t, session)
}

func TestSpeech(t *testing.T) {
	c := sdktest.Serve(t, newPlugin())
	text := "Hello, wörld ✓"
	low := speak(t, c, "t1", text, "low")

	t.Run("OKTTSIsAWAVWhoseLengthFollowsTheText", func(t *testing.T) {
		w, err := parseWAV(low)
		if err != nil {
			t.Fatal(err)
		}
		if w.rate != 8000 || w.channels != 1 || w.bits != 16 || !bytes.Equal(low[:4], []byte("RIFF")) {
			t.Fatalf("header %+v", w)
		}
		if want := 0.06 * float64(len(text)); w.seconds() < want-0.001 || w.seconds() > want+0.001 {
			t.Fatalf("%.3f s for %d bytes, want %.3f", w.seconds(), len(text), want)
		}
		if again := speak(t, c, "t2", text, "low"); !bytes.Equal(again, low) {
			t.Fatal("the same text spoke differently")
		}
		if high := speak(t, c, "t3", text, "high"); bytes.Equal(high, low) || len(high) != len(low) {
			t.Fatal("the voices sound the same")
		}
	})
	t.Run("OKVoices", func(t *testing.T) {
		c.ModelRequest(t, "v1", "get_tts_model_voices", map[string]any{"provider": provider, "model_type": "tts", "model": "demo-tts"})
		if got := string(sdktest.Chunks(t, c.Session(t, "v1"))[0]); got !=
			`{"voices":[{"name":"Low tones (demo)","value":"low"},{"name":"High tones (demo)","value":"high"}]}` {
			t.Fatalf("voices %s", got)
		}
		c.ModelRequest(t, "v2", "get_tts_model_voices", map[string]any{"provider": provider, "model_type": "tts", "model": "demo-tts", "language": "de-DE"})
		if got := string(sdktest.Chunks(t, c.Session(t, "v2"))[0]); got != `{"voices":[{"name":"High tones (demo)","value":"high"}]}` {
			t.Fatalf("German voices %s", got)
		}
	})
	t.Run("OKHearsItsTonesBack", func(t *testing.T) {
		for voice, audio := range map[string][]byte{"low": low, "high": speak(t, c, "t4", text, "high")} {
			got := sdktest.Decode[protocol.TextResult](t, sdktest.Chunks(t, transcribe(t, c, "s-"+voice, audio))[0])
			if got.Result != text {
				t.Errorf("%s voice heard as %q", voice, got.Result)
			}
		}
	})
	t.Run("OKDescribesAnotherWAV", func(t *testing.T) {
		other := stereoWAV(44100, 44100/2) // half a second of silence
		got := sdktest.Decode[protocol.TextResult](t, sdktest.Chunks(t, transcribe(t, c, "s-other", other))[0])
		if !strings.Contains(got.Result, "no demo tones heard") || !strings.Contains(got.Result, "0.50 s: 44100 Hz, 2 channel(s), 16-bit") {
			t.Fatalf("transcript %q", got.Result)
		}
		// Some crackle on the tones is heard through; noise in the demo's
		// format is not read as text.
		crackled := bytes.Clone(low)
		for i := 44; i < len(crackled); i += 7 {
			crackled[i] ^= 0x55
		}
		got = sdktest.Decode[protocol.TextResult](t, sdktest.Chunks(t, transcribe(t, c, "s-crackle", crackled))[0])
		if got.Result != text {
			t.Fatalf("crackled tones heard as %q", got.Result)
		}
		noise := bytes.Clone(low)
		rnd := rand.New(rand.NewPCG(1, 2))
		for i := 44; i < len(noise); i++ {
			noise[i] = byte(rnd.Uint32())
		}
		got = sdktest.Decode[protocol.TextResult](t, sdktest.Chunks(t, transcribe(t, c, "s-noise", noise))[0])
		if !strings.Contains(got.Result, "no demo tones heard") {
			t.Fatalf("noise heard as %q", got.Result)
		}
	})
	t.Run("ErrNotAWAV", func(t *testing.T) {
		e := sdktest.Error(t, transcribe(t, c, "s-mp3", []byte("ID3\x03 an mp3")))
		if e.ErrorType != sdk.ErrTypeInvokeBadRequest || !strings.Contains(e.Message, "reads only WAV files") {
			t.Fatalf("error %+v", e)
		}
	})
	t.Run("ErrTTSInput", func(t *testing.T) {
		for name, f := range map[string]map[string]any{
			"UnknownVoice": {"content_text": "hi", "voice": "alto"},
			"TooLong":      {"content_text": strings.Repeat("x", maxTTSBytes+1), "voice": "low"},
		} {
			f["provider"], f["model_type"], f["model"], f["tenant_id"] = provider, "tts", "demo-tts", "t"
			c.ModelRequest(t, name, "invoke_tts", f)
			if e := sdktest.Error(t, c.Session(t, name)); e.ErrorType != sdk.ErrTypeInvokeBadRequest {
				t.Errorf("%s: %+v", name, e)
			}
		}
	})
}

// stereoWAV is a silent 16-bit stereo WAV with an extra LIST chunk before
// its data, as many recorders write.
func stereoWAV(rate, frames int) []byte {
	var b bytes.Buffer
	put := func(v any) { _ = binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("RIFF")
	put(uint32(4 + 24 + 8 + 3 + 1 + 8 + frames*4))
	b.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(2), uint32(rate), uint32(rate * 4), uint16(4), uint16(16)} {
		put(v)
	}
	b.WriteString("LIST")
	put(uint32(3))
	b.WriteString("abc\x00") // odd size, padded
	b.WriteString("data")
	put(uint32(frames * 4))
	b.Write(make([]byte, frames*4))
	return b.Bytes()
}

func TestModeration(t *testing.T) {
	c := sdktest.Serve(t, newPlugin())
	for text, want := range map[string]string{
		"Have a nice day":                    `{"result":false}`,
		"You idiot, I will KILL this bug":    `{"result":true,"categories":["violence","harassment"]}`,
		"Win the LOTTERY!":                   `{"result":true,"categories":["spam"]}`,
		"skill and stabilize are fine words": `{"result":false}`,
	} {
		c.ModelRequest(t, text, "invoke_moderation", map[string]any{"provider": provider, "model_type": "moderation",
			"model": "demo-moderation", "text": text})
		if got := string(sdktest.Chunks(t, c.Session(t, text))[0]); got != want {
			t.Errorf("%q: %s, want %s", text, got, want)
		}
	}
}

// TestSpeechUnderDaemon speaks, hears back and moderates through a real
// daemon and its client.
func TestSpeechUnderDaemon(t *testing.T) {
	c := sdktest.MustInstalled(t, ".")
	ctx := context.Background()
	data := func(model string) apispec.ModelData {
		return apispec.ModelData{Provider: provider, Credentials: map[string]any{}, ModelRequest: protocol.ModelRequest{Model: model}}
	}
	d := data("demo-tts")
	voices, err := c.TTSVoices(ctx, "plugboard/demo_model", d, "u1")
	if err != nil || len(voices) != 2 {
		t.Fatalf("voices %+v, %v", voices, err)
	}
	d.ContentText, d.Voice = "through the daemon", voices[1].Value
	audio, mime, err := c.InvokeTTS(ctx, "plugboard/demo_model", d, "u1")
	if err != nil || mime != "audio/wav" || len(audio) != 44+len(d.ContentText)*2*symbolSamples*2 {
		t.Fatalf("%d bytes of %q, %v", len(audio), mime, err)
	}
	text, err := c.InvokeSpeech2Text(ctx, "plugboard/demo_model", data("demo-speech2text"), audio, "u1")
	if err != nil || text != d.ContentText {
		t.Fatalf("heard %q, %v", text, err)
	}
	m := data("demo-moderation")
	m.Text = "a bomb"
	res, err := c.Moderate(ctx, "plugboard/demo_model", m, "u1")
	if err != nil || !res.Result || len(res.Categories) != 1 || res.Categories[0] != "violence" {
		t.Fatalf("moderation %+v, %v", res, err)
	}
}
