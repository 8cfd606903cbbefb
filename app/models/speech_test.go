package models_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/app/models"
)

// TestSpeech speaks, hears back and moderates with demo_model's models
// under the real daemon, and refuses bad input before calling the plugin.
func TestSpeech(t *testing.T) {
	env := MustEnv(t)
	ctx := context.Background()
	tts := models.ModelRef{PluginID: demoID, Provider: "demo_model", Model: "demo-tts"}
	stt := models.ModelRef{PluginID: demoID, Provider: "demo_model", Model: "demo-speech2text"}
	mod := models.ModelRef{PluginID: demoID, Provider: "demo_model", Model: "demo-moderation"}

	t.Run("OKVoices", func(t *testing.T) {
		voices, err := env.Svc.Voices(ctx, "alice", tts)
		if err != nil || len(voices) != 2 || voices[0].Value != "low" || voices[1].Value != "high" {
			t.Fatalf("Voices = %+v, %v", voices, err)
		}
	})
	var low []byte
	t.Run("OKSpeakAndHearBack", func(t *testing.T) {
		sp, err := env.Svc.Speak(ctx, "alice", tts, "Bonjour ✓", "")
		if err != nil {
			t.Fatal(err)
		}
		if sp.MIMEType != "audio/wav" || !bytes.HasPrefix(sp.Audio, []byte("RIFF")) {
			t.Fatalf("Speak = %q, %d bytes", sp.MIMEType, len(sp.Audio))
		}
		low = sp.Audio
		high, err := env.Svc.Speak(ctx, "alice", tts, "Bonjour ✓", "high")
		if err != nil || bytes.Equal(high.Audio, low) {
			t.Fatalf("the high voice: %v", err)
		}
		tr, err := env.Svc.Transcribe(ctx, "alice", stt, low)
		if err != nil || tr.Text != "Bonjour ✓" {
			t.Fatalf("Transcribe = %+v, %v", tr, err)
		}
	})
	t.Run("OKModerate", func(t *testing.T) {
		m, err := env.Svc.Moderate(ctx, "alice", mod, "Win the jackpot, you loser")
		if err != nil || !m.Flagged || strings.Join(m.Categories, ",") != "harassment,spam" {
			t.Fatalf("Moderate = %+v, %v", m, err)
		}
		if m, err := env.Svc.Moderate(ctx, "alice", mod, "A calm sentence."); err != nil || m.Flagged || len(m.Categories) != 0 {
			t.Fatalf("clean text: %+v, %v", m, err)
		}
	})
	t.Run("ErrInput", func(t *testing.T) {
		for name, tc := range map[string]struct {
			err  error
			want string
		}{
			"no text":        {second(env.Svc.Speak(ctx, "alice", tts, " ", "low")), "Write a text to speak"},
			"long text":      {second(env.Svc.Speak(ctx, "alice", tts, strings.Repeat("é", models.MaxSpeakText+1), "low")), "At most 1000 characters"},
			"no audio":       {second(env.Svc.Transcribe(ctx, "alice", stt, nil)), "Choose an audio file"},
			"large audio":    {second(env.Svc.Transcribe(ctx, "alice", stt, make([]byte, models.MaxAudio+1))), "at most 6 MiB"},
			"no moderation":  {second(env.Svc.Moderate(ctx, "alice", mod, "")), "Write a text to check"},
			"long moderated": {second(env.Svc.Moderate(ctx, "alice", mod, strings.Repeat("a", models.MaxModerateText+1))), "At most 10000"},
		} {
			if plugboard.ErrorCode(tc.err) != plugboard.EINVALID || !strings.Contains(plugboard.ErrorMessage(tc.err), tc.want) {
				t.Errorf("%s: %v", name, tc.err)
			}
		}
	})
	t.Run("ErrPluginsMessage", func(t *testing.T) {
		_, err := env.Svc.Speak(ctx, "alice", tts, "hi", "alto")
		if plugboard.ErrorCode(err) != plugboard.EINVALID || !strings.Contains(plugboard.ErrorMessage(err), `no voice "alto"`) {
			t.Fatalf("unknown voice: %v", err)
		}
		_, err = env.Svc.Transcribe(ctx, "alice", stt, []byte("ID3 not a wav"))
		if plugboard.ErrorCode(err) != plugboard.EINVALID || !strings.Contains(plugboard.ErrorMessage(err), "reads only WAV files") {
			t.Fatalf("an mp3: %v", err)
		}
	})
	t.Run("ErrWrongType", func(t *testing.T) {
		if _, err := env.Svc.Speak(ctx, "alice", stt, "hi", "low"); plugboard.ErrorCode(err) != plugboard.ENOTFOUND {
			t.Fatalf("a speech-to-text model spoke: %v", err)
		}
	})
}
