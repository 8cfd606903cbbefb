package e2e_test

import (
	"bytes"
	bin "encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestModelsSpeech installs demo_model and tries its speech models in
// Chromium: TTS plays in the page's audio player (its duration known once
// loaded), the same audio uploaded to speech-to-text reads back as the
// text, a WAV written here is described, and moderation flags one text,
// with its categories, and passes another.
func TestModelsSpeech(t *testing.T) {
	skipWithoutChromium(t)
	srv := MustServe(t, WithExamples(mustModelExamples(t)))
	br := MustBrowser(t, srv)
	console := watchConsole(br)
	br.CreateOwner()
	installExample(t, br, "plugboard/demo_model")

	// TTS, from the model's Try link on the Models page.
	br.Open("/models", "default-models")
	br.Do("try the TTS model", chromedp.Click(`[data-type="tts"] [data-model="demo-tts"] [data-testid="try-model"]`),
		chromedp.WaitVisible(tid("try-form")))
	if n := Eval[int](br, `document.querySelectorAll('[data-testid="input-try-voice"]:not([disabled]) option').length`); n != 2 {
		t.Fatalf("%d voices offered, want 2", n)
	}
	choose(br, "input-try-voice", "high")
	const text = "Hello from Plugboard"
	br.Fill(map[string]string{"input-try-text": text})
	br.Do("speak", chromedp.Click(tid("try-submit")), chromedp.WaitVisible(tid("try-player")))
	dur := Eval[float64](br, `new Promise(r => { const a = document.querySelector('[data-testid="try-player"]');
		if (a.readyState >= 1) return r(a.duration);
		a.addEventListener("loadedmetadata", () => r(a.duration)); a.addEventListener("error", () => r(-1)) })`)
	if want := 0.06 * float64(len(text)); dur < want-0.01 || dur > want+0.01 {
		t.Fatalf("the player's audio lasts %v s, want %.2f (60 ms a byte); -1 is a load error", dur, want)
	}
	// It plays (muted: no sound card), and time moves.
	if played := Eval[bool](br, `(async () => { const a = document.querySelector('[data-testid="try-player"]'); a.muted = true;
		await a.play(); await new Promise(r => a.addEventListener("ended", r, {once: true})); return a.currentTime > 0 })()`); !played {
		t.Error("the audio did not play to its end")
	}
	if v := Eval[string](br, `document.querySelector('[data-testid="input-try-voice"]').value`); v != "high" {
		t.Errorf("the voice after speaking is %q", v)
	}
	noOverflow(br, "TTS tryout")
	console.check(t, "TTS tryout")
	br.Shoot("models-try-tts")

	// Speech to text: the player's audio, fetched and put in the file
	// input as a user's file would be, is heard back.
	src := Eval[string](br, `document.querySelector('[data-testid="try-player"]').src`)
	br.Open("/models/try/speech2text", "try-form")
	if !Eval[bool](br, `(async () => { const blob = await (await fetch(`+jsString(src)+`)).blob();
		const dt = new DataTransfer(); dt.items.add(new File([blob], "speech.wav", {type: "audio/wav"}));
		const input = document.querySelector('[data-testid="input-try-audio"]'); input.files = dt.files; return input.files.length === 1 })()`) {
		t.Fatal("the audio could not be put in the file input")
	}
	br.Do("transcribe", chromedp.Click(tid("try-submit")), chromedp.WaitVisible(tid("try-transcript")))
	if got := br.Text("try-transcript-text"); got != text {
		t.Errorf("the transcript reads %q, want %q", got, text)
	}
	br.Shoot("models-try-speech2text")
	// A WAV of the test's, chosen through the file dialog, is described.
	wav := filepath.Join(t.TempDir(), "silence.wav")
	if err := os.WriteFile(wav, silentWAV(16000, 16000), 0o644); err != nil {
		t.Fatal(err)
	}
	br.Upload("input-try-audio", wav)
	// The answer above goes first, so the wait below is for the new page's.
	Eval[bool](br, `(() => { document.querySelector('[data-testid="try-transcript"]').remove(); return true })()`)
	br.Do("transcribe the silence", chromedp.Click(tid("try-submit")), chromedp.WaitVisible(tid("try-transcript")))
	if got := br.Text("try-transcript-text"); !strings.Contains(got, "no demo tones heard") || !strings.Contains(got, "1.00 s: 16000 Hz") {
		t.Errorf("the silence reads %q", got)
	}
	// No file is refused in the form.
	br.Do("transcribe nothing", chromedp.Click(tid("try-submit")), chromedp.WaitVisible(`[data-testid="try-form"] [role="alert"]`))
	if msg := br.Text("form-error"); !strings.Contains(msg, "Choose an audio file") {
		t.Errorf("no file: %q", msg)
	}

	// Moderation: a flagged text with its categories, then a clean one.
	br.Open("/models/try/moderation", "try-form")
	br.Fill(map[string]string{"input-try-text": "Buy a lottery ticket, you idiot"})
	br.Do("check", chromedp.Click(tid("try-submit")), chromedp.WaitVisible(tid("try-moderation")))
	if v := br.Text("try-verdict"); v != "flagged" || !strings.Contains(br.Text("try-categories"), "harassment, spam") {
		t.Errorf("verdict %q, %q", v, br.Text("try-categories"))
	}
	br.Shoot("models-try-moderation")
	br.Fill(map[string]string{"input-try-text": "Thank you for the lovely tea"})
	br.Do("check again", chromedp.Click(tid("try-submit")),
		chromedp.WaitVisible(`[data-testid="try-moderation"][data-flagged="false"]`))
	if v := br.Text("try-verdict"); v != "not flagged" {
		t.Errorf("clean text's verdict %q", v)
	}
	console.check(t, "speech tryouts")
}

// jsString is s as a JavaScript string literal.
func jsString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
}

// silentWAV is a mono 16-bit WAV of frames silent samples at rate.
func silentWAV(rate, frames int) []byte {
	var b bytes.Buffer
	put := func(vs ...any) {
		for _, v := range vs {
			_ = bin.Write(&b, bin.LittleEndian, v)
		}
	}
	b.WriteString("RIFF")
	put(uint32(36 + 2*frames))
	b.WriteString("WAVEfmt ")
	put(uint32(16), uint16(1), uint16(1), uint32(rate), uint32(2*rate), uint16(2), uint16(16))
	b.WriteString("data")
	put(uint32(2 * frames))
	b.Write(make([]byte, 2*frames))
	return b.Bytes()
}
