package web_test

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	appmodels "github.com/plugboard/plugboard/app/models"
	"github.com/plugboard/plugboard/store"
)

// TestModelsSpeech tries demo_model's TTS, speech-to-text and moderation
// models through their tryout pages: the audio served to its maker only,
// heard back from an upload, a verdict with its categories, and refusals
// in the form.
func TestModelsSpeech(t *testing.T) {
	a := MustModelApp(t)
	a.MustUser(t, "bob", store.RoleMember)
	a.MustUser(t, "eve", store.RoleMember)
	bob := a.NewBrowser(t)
	bob.MustLogin("bob")
	const (
		tts = "plugboard/demo_model|demo_model|demo-tts"
		stt = "plugboard/demo_model|demo_model|demo-speech2text"
		mod = "plugboard/demo_model|demo_model|demo-moderation"
	)

	t.Run("OKLinked", func(t *testing.T) {
		p := bob.Get("/models")
		for typ, model := range map[string]string{"tts": "demo-tts", "speech2text": "demo-speech2text", "moderation": "demo-moderation"} {
			href := p.Doc.Find(`[data-type="`+typ+`"] [data-model="`+model+`"] [data-testid="try-model"]`).AttrOr("href", "")
			if href != "/models/try/"+typ+"?model="+url.QueryEscape("plugboard/demo_model|demo_model|"+model) {
				t.Errorf("%s's Try link %q", model, href)
			}
		}
		p = bob.Get("/models/try/tts")
		wantStatus(t, p, http.StatusOK)
		voices := p.Doc.Find(`[data-try-for="` + tts + `"] select[name=voice] option`)
		if voices.Length() != 2 || voices.Eq(1).AttrOr("value", "") != "high" || voices.Eq(1).Text() != "High tones (demo)" {
			t.Fatalf("voices:\n%.3000s", p.Body)
		}
		if p.Doc.Find(`script[src="/static/js/models_try.js"]`).Length() != 1 {
			t.Error("the page does not load models_try.js")
		}
		if p.Doc.Find(`form[enctype="multipart/form-data"]`).Length() != 0 {
			t.Error("the TTS form posts multipart")
		}
		if bob.Get("/models/try/speech2text").Doc.Find(`form[enctype="multipart/form-data"] input[type=file][name=audio]`).Length() != 1 {
			t.Error("the speech-to-text form takes no file")
		}
	})

	var audio []byte
	t.Run("OKSpeakThenServe", func(t *testing.T) {
		p := bob.Post("/models/try/tts", url.Values{"model": {tts}, "text": {"Hello there"}, "voice": {"high"}})
		wantStatus(t, p, http.StatusOK)
		src := p.TestID("try-player").AttrOr("src", "")
		if !strings.HasPrefix(src, "/models/try/tts/audio/") {
			t.Fatalf("player src %q", src)
		}
		if v := p.Doc.Find(`[data-try-for="`+tts+`"] option[selected]`).AttrOr("value", ""); v != "high" {
			t.Errorf("the voice picked is %q after speaking", v)
		}
		res := mustGet(t, bob, src, nil)
		audio, _ = io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "audio/wav" || !bytes.HasPrefix(audio, []byte("RIFF")) {
			t.Fatalf("audio: %d %q, %d bytes", res.StatusCode, res.Header.Get("Content-Type"), len(audio))
		}
		if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "sandbox") {
			t.Errorf("the audio's CSP %q", csp)
		}
		// A player asks for ranges.
		res = mustGet(t, bob, src, http.Header{"Range": {"bytes=0-3"}})
		if b, _ := io.ReadAll(res.Body); res.StatusCode != http.StatusPartialContent || string(b) != "RIFF" {
			t.Errorf("range: %d %q", res.StatusCode, b)
		}
		// Another user does not get it.
		eve := a.NewBrowser(t)
		eve.MustLogin("eve")
		if res := mustGet(t, eve, src, nil); res.StatusCode != http.StatusNotFound {
			t.Errorf("eve got bob's audio: %d", res.StatusCode)
		}
	})

	t.Run("OKTranscribe", func(t *testing.T) {
		bob.Get("/models/try/speech2text")
		p := bob.PostMultipart("/models/try/speech2text", url.Values{"model": {stt}}, upload{"audio", "hello.wav", "audio/wav", audio})
		wantStatus(t, p, http.StatusOK)
		if got := p.TestID("try-transcript-text").Text(); got != "Hello there" {
			t.Fatalf("transcript %q\n%.2000s", got, p.Body)
		}
	})

	t.Run("OKModerate", func(t *testing.T) {
		p := bob.Post("/models/try/moderation", url.Values{"model": {mod}, "text": {"Stab the bug, idiot"}})
		wantStatus(t, p, http.StatusOK)
		if p.TestID("try-moderation").AttrOr("data-flagged", "") != "true" || !strings.Contains(p.TestID("try-categories").Text(), "violence, harassment") {
			t.Fatalf("verdict:\n%.3000s", p.Body)
		}
		p = bob.Post("/models/try/moderation", url.Values{"model": {mod}, "text": {"A kind word"}})
		if p.TestID("try-verdict").Text() != "not flagged" {
			t.Fatalf("clean text's verdict %q", p.TestID("try-verdict").Text())
		}
		if v := p.Doc.Find(`textarea[name=text]`).Text(); v != "A kind word" {
			t.Errorf("text not kept: %q", v)
		}
	})

	t.Run("ErrInput", func(t *testing.T) {
		for _, tc := range []struct {
			path string
			form url.Values
			want string
		}{
			{"/models/try/tts", url.Values{"model": {tts}, "text": {"  "}, "voice": {"low"}}, "Write a text to speak"},
			{"/models/try/tts", url.Values{"model": {tts}, "text": {"hi"}, "voice": {"alto"}}, `no voice "alto"`},
			{"/models/try/tts", url.Values{"model": {"nonsense"}, "text": {"hi"}}, "Pick a model"},
			{"/models/try/moderation", url.Values{"model": {mod}, "text": {""}}, "Write a text to check"},
		} {
			p := bob.Post(tc.path, tc.form)
			wantStatus(t, p, http.StatusUnprocessableEntity)
			if !strings.Contains(p.TestID("try-form").Text(), tc.want) {
				t.Errorf("%s %v: no %q in the form:\n%.2000s", tc.path, tc.form, tc.want, p.Body)
			}
		}
		for name, tc := range map[string]struct {
			files  []upload
			status int
			want   string
		}{
			"NoFile":   {nil, http.StatusUnprocessableEntity, "Choose an audio file"},
			"NotAWAV":  {[]upload{{"audio", "a.mp3", "audio/mpeg", []byte("ID3 an mp3")}}, http.StatusUnprocessableEntity, "reads only WAV files"},
			"TooLarge": {[]upload{{"audio", "big.wav", "audio/wav", make([]byte, appmodels.MaxAudio+1)}}, http.StatusRequestEntityTooLarge, "at most 6 MiB"},
		} {
			bob.Get("/models/try/speech2text")
			p := bob.PostMultipart("/models/try/speech2text", url.Values{"model": {stt}}, tc.files...)
			if p.StatusCode != tc.status || !strings.Contains(p.TestID("try-form").Text(), tc.want) {
				t.Errorf("%s: %d, want %d with %q:\n%.2000s", name, p.StatusCode, tc.status, tc.want, p.Body)
			}
		}
		// Far past the bound the guard answers before the handler.
		bob.Get("/models/try/speech2text")
		p := bob.PostMultipart("/models/try/speech2text", url.Values{"model": {stt}}, upload{"audio", "huge.wav", "audio/wav", make([]byte, appmodels.MaxAudio+1<<20)})
		if p.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(p.Body, "an audio file may be at most") {
			t.Errorf("huge file: %d\n%.1000s", p.StatusCode, p.Body)
		}
	})
}

// mustGet fetches path as b, with extra headers.
func mustGet(tb testing.TB, b *Browser, path string, hdr http.Header) *http.Response {
	tb.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.app.URL+path, nil)
	for k, v := range hdr {
		req.Header[k] = v
	}
	res, err := b.Client().Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { res.Body.Close() })
	return res
}
