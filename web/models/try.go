package models

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard"
	appmodels "github.com/plugboard/plugboard/app/models"
	"github.com/plugboard/plugboard/views"
	"github.com/plugboard/plugboard/web/page"
)

// tryPage is the tryout of an embedding or rerank model (the :type), the
// model from ?model= preselected, else the workspace's default.
func (h *Handlers) tryPage(c echo.Context) error {
	if views.IsSpeechTry(c.Param("type")) {
		return h.speechPage(c, c.Param("type"))
	}
	t, problem, err := h.tryForm(c, c.QueryParam("model"))
	if err != nil {
		return err
	}
	return page.Render(c, http.StatusOK, views.ModelTryPage(h.tryChrome(c, t.Type), t, problem))
}

// tryRun calls the picked model with the form's texts (embedding) or query
// and documents (rerank) and re-renders the page with the answer, or with
// the refusal in the form (422 for bad input).
func (h *Handlers) tryRun(c echo.Context) error {
	if views.IsSpeechTry(c.Param("type")) {
		return h.speechRun(c, c.Param("type"))
	}
	t, problem, err := h.tryForm(c, c.FormValue("model"))
	if err != nil {
		return err
	}
	t.Form = page.FormValues(c, "model", "texts", "query", "docs")
	t.Form.Values["texts"], t.Form.Values["docs"] = c.FormValue("texts"), c.FormValue("docs")
	status := http.StatusOK
	ref, ok := appmodels.ParseKey(t.Type, t.Current)
	if !ok {
		t.Form.Error, status = "Pick a model.", http.StatusUnprocessableEntity
	} else if t.Type == plugboard.ModelRerank {
		docs := lines(c.FormValue("docs"))
		res, err := h.models.Rerank(page.Ctx(c), page.Actor(c), ref, t.Form.Value("query"), docs)
		if err != nil {
			status = page.FormError(t.Form, err)
		} else {
			t.Reranked = true
			for _, d := range res.Docs {
				t.Ranked = append(t.Ranked, views.TryRanked{Index: d.Index, Text: d.Text, Score: d.Score})
			}
		}
	} else {
		texts := lines(c.FormValue("texts"))
		res, err := h.models.Embed(page.Ctx(c), page.Actor(c), ref, texts)
		if err != nil {
			status = page.FormError(t.Form, err)
		} else {
			t.Embedding = &views.TryEmbedding{Texts: texts, Dimensions: res.Dimensions, Similarity: res.Similarity,
				Tokens: res.Usage.TotalTokens, TookMS: res.Took.Milliseconds()}
			if t.Embedding.Tokens == 0 {
				t.Embedding.Tokens = res.Usage.Tokens
			}
		}
	}
	return page.Render(c, status, views.ModelTryPage(h.tryChrome(c, t.Type), t, problem))
}

// tryChrome is the tryout page's chrome.
func (h *Handlers) tryChrome(c echo.Context, modelType string) views.Chrome {
	return h.Chrome(c, "Try "+views.ModelTypeLabel(modelType)+" · Models", views.NavModels)
}

// tryForm is the tryout of the route's model type with its models; picked
// is the model asked for ("" for the default). An unknown type is not
// found; the daemon not answering is the problem shown.
func (h *Handlers) tryForm(c echo.Context, picked string) (views.ModelTry, string, error) {
	t := views.ModelTry{Type: c.Param("type"), Form: views.NewForm()}
	var problem string
	var err error
	t.Options, t.Current, problem, err = h.tryChoices(c, t.Type, picked)
	return t, problem, err
}

// tryChoices are the models of a type with a tryout, and the one picked
// ("" for the default, if any). An unknown type is not found; the daemon
// not answering is the problem shown.
func (h *Handlers) tryChoices(c echo.Context, modelType, picked string) (opts []views.ModelOption, current, problem string, err error) {
	if !views.Triable(modelType) {
		return nil, "", "", plugboard.Errorf(plugboard.ENOTFOUND, "There is no tryout for %q models.", modelType)
	}
	providers, err := h.models.Providers(page.Ctx(c))
	if err != nil {
		problem = page.DaemonProblem(err)
	}
	for _, r := range appmodels.Models(providers, modelType) {
		opts = append(opts, views.ModelOption{Key: r.Key(), Label: r.Label})
	}
	current = picked
	if current == "" {
		defs, err := h.models.Defaults(page.Ctx(c))
		if err != nil {
			return nil, "", "", err
		}
		if d, ok := defs[modelType]; ok {
			current = appmodels.ModelRef{PluginID: d.PluginID, Provider: d.Provider, Model: d.Model}.Key()
		}
	}
	return opts, current, problem, nil
}

// lines are a textarea's non-blank lines, trimmed.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}
