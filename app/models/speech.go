package models

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/daemon/protocol"
	"github.com/plugboard/plugboard/store/secret"
)

// Bounds of the speech and moderation calls' input.
const (
	// MaxSpeakText is how many characters one TTS call speaks at most.
	MaxSpeakText = 1000
	// MaxAudio is the largest audio file Speech2Text takes: hex doubles it
	// on the way to the daemon, whose JSON bodies stop at 16 MiB.
	MaxAudio = 6 << 20
	// MaxModerateText is how many characters one moderation call checks.
	MaxModerateText = 10000
)

// Voices lists a TTS model's voices (tts/model/voices), with its
// credentials (Credentials). A plugin's error keeps its message, the
// model's secrets redacted.
func (s *Service) Voices(ctx context.Context, actor string, ref ModelRef) ([]protocol.TTSVoice, error) {
	r, err := s.Credentials(ctx, ref.PluginID, ref.Provider, plugboard.ModelTTS, ref.Model)
	if err != nil {
		return nil, err
	}
	voices, err := s.daemon.TTSVoices(ctx, r.PluginID, modelData(r, plugboard.ModelTTS), actor)
	if err != nil {
		return nil, s.refused(err, r.Secrets)
	}
	return voices, nil
}

// Speech is a TTS model's answer: the audio and its MIME type.
type Speech struct {
	Audio    []byte
	MIMEType string
	Took     time.Duration
}

// Speak turns text into audio with a TTS model in voice; no voice is the
// model's default_voice, else its first. An empty text or one over
// MaxSpeakText characters is an invalid error, and so is a model answering
// no audio; the MIME type is the plugin's, else sniffed from the audio. A
// plugin's error keeps its message, the model's secrets redacted.
func (s *Service) Speak(ctx context.Context, actor string, ref ModelRef, text, voice string) (*Speech, error) {
	if err := checkText("a text to speak", text, MaxSpeakText); err != nil {
		return nil, err
	}
	r, err := s.Credentials(ctx, ref.PluginID, ref.Provider, plugboard.ModelTTS, ref.Model)
	if err != nil {
		return nil, err
	}
	return s.SpeakWith(ctx, actor, r, text, voice)
}

// SpeakWith is Speak with the model already resolved (Credentials) and
// without Speak's bound on the text: a plugin calling back asks for what
// Dify would speak. An empty answer is an invalid error.
func (s *Service) SpeakWith(ctx context.Context, actor string, r *Resolved, text, voice string) (*Speech, error) {
	if voice == "" {
		var err error
		if voice, err = s.defaultVoice(ctx, actor, r); err != nil {
			return nil, err
		}
	}
	start := time.Now()
	data := modelData(r, plugboard.ModelTTS)
	data.ContentText, data.Voice = text, voice
	audio, mime, err := s.daemon.InvokeTTS(ctx, r.PluginID, data, actor)
	if err != nil {
		return nil, s.refused(err, r.Secrets)
	}
	if len(audio) == 0 {
		return nil, plugboard.Errorf(plugboard.EINVALID, "The model answered no audio.")
	}
	if mime == "" {
		mime = http.DetectContentType(audio)
	}
	return &Speech{Audio: audio, MIMEType: mime, Took: time.Since(start)}, nil
}

// defaultVoice is the model's default_voice, else the first voice it lists.
func (s *Service) defaultVoice(ctx context.Context, actor string, r *Resolved) (string, error) {
	if r.Declaration != nil {
		if v, ok := r.Declaration.ModelProperties["default_voice"].(string); ok && v != "" {
			return v, nil
		}
	}
	voices, err := s.daemon.TTSVoices(ctx, r.PluginID, modelData(r, plugboard.ModelTTS), actor)
	if err != nil {
		return "", s.refused(err, r.Secrets)
	}
	if len(voices) == 0 {
		return "", plugboard.Errorf(plugboard.EINVALID, "The model lists no voice; pick one.")
	}
	return voices[0].Value, nil
}

// Transcript is a speech-to-text model's answer.
type Transcript struct {
	Text string
	Took time.Duration
}

// Transcribe turns an audio file into text with a speech-to-text model and
// its credentials (Credentials). No audio, or more than MaxAudio bytes, is
// an invalid error. The text and a plugin's error have the model's secrets
// redacted.
func (s *Service) Transcribe(ctx context.Context, actor string, ref ModelRef, audio []byte) (*Transcript, error) {
	if len(audio) == 0 {
		return nil, plugboard.Errorf(plugboard.EINVALID, "Choose an audio file first; this one is empty.")
	}
	if len(audio) > MaxAudio {
		return nil, plugboard.Errorf(plugboard.EINVALID, "The audio file is %s; at most %s can be transcribed at a time.", mib(len(audio)), mib(MaxAudio))
	}
	r, err := s.Credentials(ctx, ref.PluginID, ref.Provider, plugboard.ModelSpeech2Text, ref.Model)
	if err != nil {
		return nil, err
	}
	return s.TranscribeWith(ctx, actor, r, audio)
}

// TranscribeWith is Transcribe with the model already resolved
// (Credentials); the audio's size is bounded by the daemon's body limit
// alone (a plugin calling back).
func (s *Service) TranscribeWith(ctx context.Context, actor string, r *Resolved, audio []byte) (*Transcript, error) {
	if len(audio) == 0 {
		return nil, plugboard.Errorf(plugboard.EINVALID, "There is no audio to transcribe.")
	}
	start := time.Now()
	text, err := s.daemon.InvokeSpeech2Text(ctx, r.PluginID, modelData(r, plugboard.ModelSpeech2Text), audio, actor)
	if err != nil {
		return nil, s.refused(err, r.Secrets)
	}
	return &Transcript{Text: secret.NewRedactor(r.Secrets...).String(text), Took: time.Since(start)}, nil
}

// Moderation is a moderation model's verdict: flagged or not, and the
// categories when the model names them.
type Moderation struct {
	Flagged    bool
	Categories []string
	Took       time.Duration
}

// Moderate checks a text with a moderation model and its credentials
// (Credentials). An empty text or one over MaxModerateText characters is
// an invalid error. A plugin's error keeps its message, the model's
// secrets redacted.
func (s *Service) Moderate(ctx context.Context, actor string, ref ModelRef, text string) (*Moderation, error) {
	if err := checkText("a text to check", text, MaxModerateText); err != nil {
		return nil, err
	}
	r, err := s.Credentials(ctx, ref.PluginID, ref.Provider, plugboard.ModelModeration, ref.Model)
	if err != nil {
		return nil, err
	}
	return s.ModerateWith(ctx, actor, r, text)
}

// ModerateWith is Moderate with the model already resolved (Credentials)
// and without Moderate's bounds on the text (a plugin calling back).
func (s *Service) ModerateWith(ctx context.Context, actor string, r *Resolved, text string) (*Moderation, error) {
	start := time.Now()
	data := modelData(r, plugboard.ModelModeration)
	data.Text = text
	res, err := s.daemon.Moderate(ctx, r.PluginID, data, actor)
	if err != nil {
		return nil, s.refused(err, r.Secrets)
	}
	return &Moderation{Flagged: res.Result, Categories: res.Categories, Took: time.Since(start)}, nil
}

// refused is a plugin's error as the caller sees it (redacted, as
// redacted makes it), the model refusing its input (Dify's
// InvokeBadRequestError) an invalid error, so the form shows it as bad
// input.
func (s *Service) refused(err error, secrets []string) error {
	var ce *client.Error
	if errors.As(err, &ce) {
		if typ, _ := ce.PluginError(); typ == protocol.ErrInvokeBadRequest {
			return plugboard.Errorf(plugboard.EINVALID, "%s", secret.NewRedactor(secrets...).String(plugboard.ErrorMessage(err)))
		}
	}
	return s.redacted(err, secrets)
}

// modelData is the request data of a resolved model of a type.
func modelData(r *Resolved, modelType string) apispec.ModelData {
	return apispec.ModelData{Provider: r.Provider, Credentials: r.Credentials,
		ModelRequest: protocol.ModelRequest{ModelType: modelType, Model: r.Model}}
}

// checkText refuses a blank text or one over max characters.
func checkText(what, text string, max int) error {
	if strings.TrimSpace(text) == "" {
		return plugboard.Errorf(plugboard.EINVALID, "Write %s first.", what)
	}
	if n := utf8.RuneCountInString(text); n > max {
		return plugboard.Errorf(plugboard.EINVALID, "At most %d characters at a time; this text has %d.", max, n)
	}
	return nil
}

// mib is a size in MiB with one decimal, none when it is whole.
func mib(n int) string {
	return strings.TrimSuffix(fmt.Sprintf("%.1f", float64(n)/(1<<20)), ".0") + " MiB"
}
