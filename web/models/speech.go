package models

import (
	"cmp"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard"
	appmodels "github.com/plugboard/plugboard/app/models"
	"github.com/plugboard/plugboard/views"
	"github.com/plugboard/plugboard/web/page"
)

// SpeechToTextPath is where the speech-to-text tryout posts its audio file,
// a route of its own so that web/guard lets it carry MaxAudioUpload.
const SpeechToTextPath = "/models/try/" + plugboard.ModelSpeech2Text

// MaxAudioUpload is the largest audio file the tryout reads: the model
// service's bound (a larger one is answered 413).
const MaxAudioUpload = appmodels.MaxAudio

// speechPage is the tryout of a TTS, speech-to-text or moderation model.
func (h *Handlers) speechPage(c echo.Context, modelType string) error {
	t, problem, err := h.speechForm(c, modelType, c.QueryParam("model"))
	if err != nil {
		return err
	}
	return page.Render(c, http.StatusOK, views.SpeechTryPage(h.tryChrome(c, modelType), t, problem))
}

// speechRun speaks the form's text (TTS) or checks it (moderation), and
// re-renders the page with the answer, or with the refusal in the form
// (422 for bad input).
func (h *Handlers) speechRun(c echo.Context, modelType string) error {
	t, problem, err := h.speechForm(c, modelType, c.FormValue("model"))
	if err != nil {
		return err
	}
	t.Form = page.FormValues(c, "model", "voice")
	text := c.FormValue("text")
	t.Form.Values["text"] = text
	ref, status := h.pickedRef(t)
	switch {
	case status != http.StatusOK:
	case modelType == plugboard.ModelTTS:
		sp, err := h.models.Speak(page.Ctx(c), page.Actor(c), ref, text, t.Form.Value("voice"))
		if err != nil {
			status = page.FormError(t.Form, err)
			break
		}
		id := h.clips.add(page.Actor(c), sp.MIMEType, sp.Audio)
		t.Audio = &views.TryAudio{URL: clipPath(id), MIMEType: sp.MIMEType, Bytes: len(sp.Audio), TookMS: sp.Took.Milliseconds()}
	default:
		m, err := h.models.Moderate(page.Ctx(c), page.Actor(c), ref, text)
		if err != nil {
			status = page.FormError(t.Form, err)
			break
		}
		t.Moderation = &views.TryModeration{Flagged: m.Flagged, Categories: m.Categories, TookMS: m.Took.Milliseconds()}
	}
	return page.Render(c, status, views.SpeechTryPage(h.tryChrome(c, modelType), t, problem))
}

// transcribeRun transcribes the uploaded audio file and re-renders the
// page with its text; no file is 422, one over MaxAudioUpload 413, each
// with its message in the form.
func (h *Handlers) transcribeRun(c echo.Context) error {
	const typ = plugboard.ModelSpeech2Text
	t, problem, err := h.speechForm(c, typ, c.FormValue("model"))
	if err != nil {
		return err
	}
	t.Form = page.FormValues(c, "model")
	ref, status := h.pickedRef(t)
	if status == http.StatusOK {
		status = h.transcribe(c, ref, &t)
	}
	return page.Render(c, status, views.SpeechTryPage(h.tryChrome(c, typ), t, problem))
}

// transcribe reads the form's audio file and sets t's transcript, or its
// form's error; it returns the status to render with.
func (h *Handlers) transcribe(c echo.Context, ref appmodels.ModelRef, t *views.SpeechTry) int {
	fh, err := c.FormFile("audio")
	if err != nil {
		t.Form.Error = "Choose an audio file to transcribe."
		return http.StatusUnprocessableEntity
	}
	if fh.Size > MaxAudioUpload {
		t.Form.Error = "The file " + fh.Filename + " is " + views.Bytes(fh.Size) + "; at most " + views.Bytes(MaxAudioUpload) + " can be transcribed."
		return http.StatusRequestEntityTooLarge
	}
	f, err := fh.Open()
	if err != nil {
		return page.FormError(t.Form, err)
	}
	defer f.Close()
	audio, err := io.ReadAll(io.LimitReader(f, MaxAudioUpload+1))
	if err != nil {
		return page.FormError(t.Form, err)
	}
	tr, err := h.models.Transcribe(page.Ctx(c), page.Actor(c), ref, audio)
	if err != nil {
		return page.FormError(t.Form, err)
	}
	t.Transcript = &views.TryTranscript{File: fh.Filename, Bytes: len(audio), Text: tr.Text, TookMS: tr.Took.Milliseconds()}
	return http.StatusOK
}

// pickedRef is the form's model; 422 with the form's error when it names
// none.
func (h *Handlers) pickedRef(t views.SpeechTry) (appmodels.ModelRef, int) {
	ref, ok := appmodels.ParseKey(t.Type, t.Current)
	if !ok {
		t.Form.Error = "Pick a model."
		return ref, http.StatusUnprocessableEntity
	}
	return ref, http.StatusOK
}

// speechForm is the tryout of a speech or moderation type with its models,
// picked the one asked for, else the default, else the first; a TTS
// tryout lists each model's voices.
func (h *Handlers) speechForm(c echo.Context, modelType, picked string) (views.SpeechTry, string, error) {
	t := views.SpeechTry{Type: modelType, Form: views.NewForm(), MaxAudio: MaxAudioUpload, MaxText: appmodels.MaxModerateText}
	var problem string
	var err error
	if t.Options, t.Current, problem, err = h.tryChoices(c, modelType, picked); err != nil {
		return t, "", err
	}
	if t.Current == "" && len(t.Options) > 0 {
		t.Current = t.Options[0].Key
	}
	if modelType == plugboard.ModelTTS {
		t.MaxText = appmodels.MaxSpeakText
		h.listVoices(c, &t)
	}
	return t, problem, nil
}

// listVoices asks each TTS model for its voices; a model that cannot
// answer has its message instead.
func (h *Handlers) listVoices(c echo.Context, t *views.SpeechTry) {
	t.Voices, t.VoiceProblems = map[string][]views.ModelOption{}, map[string]string{}
	for _, o := range t.Options {
		ref, _ := appmodels.ParseKey(plugboard.ModelTTS, o.Key)
		voices, err := h.models.Voices(page.Ctx(c), page.Actor(c), ref)
		switch {
		case err != nil:
			t.VoiceProblems[o.Key] = "The voices could not be listed: " + plugboard.ErrorMessage(err)
		case len(voices) == 0:
			t.VoiceProblems[o.Key] = "The model lists no voice."
		}
		for _, v := range voices {
			t.Voices[o.Key] = append(t.Voices[o.Key], views.ModelOption{Key: v.Value, Label: cmp.Or(v.Name, v.Value)})
		}
	}
}
