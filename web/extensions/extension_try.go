package extensions

import (
	"bytes"
	"encoding/json"
	"net/http"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"github.com/plugboard/plugboard/app/extension"
	"github.com/plugboard/plugboard/views"
	"github.com/plugboard/plugboard/web/page"
)

// extensionPoints are the points the try-it panel sends, with their params
// (Dify's external data tool and moderation requests).
var extensionPoints = []views.ExtensionPoint{
	{Name: extension.PointExternalDataTool, Hint: "External data tool: the app asks for data to fill a variable; the answer is {\"result\": \"<text>\"}.", Fields: []string{"app_id", "tool_variable", "inputs", "query"}},
	{Name: extension.PointModerationInput, Hint: "Moderation of the user's input: the answer says whether it is flagged and what to do.", Fields: []string{"app_id", "inputs", "query"}},
	{Name: extension.PointModerationOutput, Hint: "Moderation of the model's output: the answer says whether it is flagged and what to do.", Fields: []string{"app_id", "text"}},
}

// tryDefaults fill a fresh try-it form so Send works at once.
var tryDefaults = map[string]string{
	"app_id":        "playground",
	"tool_variable": "weather",
	"inputs":        "{}",
	"query":         "What's the weather in Paris today?",
	"text":          "Here is the answer to moderate.",
}

// maxShownBody is how much of an answer the panel shows.
const maxShownBody = 64 << 10

// pointByName returns the point, or the first one for an unknown name.
func pointByName(name string) views.ExtensionPoint {
	for _, p := range extensionPoints {
		if p.Name == name {
			return p
		}
	}
	return extensionPoints[0]
}

// tryPanel builds the panel; a nil form gets the defaults.
func (h *Handlers) tryPanel(id string, p views.ExtensionPoint, f *views.Form, r *views.TryResult) views.TryPanel {
	if f == nil {
		f = views.NewForm()
		for _, name := range p.Fields {
			f.Values[name] = tryDefaults[name]
		}
	}
	return views.TryPanel{ExtensionID: id, Points: extensionPoints, Point: p, Form: f, Result: r}
}

// tryForm answers the point selector: the panel with the chosen point's
// fields (htmx), or the whole page.
func (h *Handlers) tryForm(c echo.Context) error {
	if !page.IsHTMX(c) {
		return h.extension(c)
	}
	e, err := h.store.FindExtensionByID(page.Ctx(c), h.keys, c.Param("id"))
	if err != nil {
		return err
	}
	return page.Render(c, http.StatusOK, views.TryPanelFragment(h.tryPanel(e.ID, pointByName(c.QueryParam("point")), nil, nil)))
}

// tryExtension sends one point with the form's params and shows the answer.
func (h *Handlers) tryExtension(c echo.Context) error {
	e, err := h.store.FindExtensionByID(page.Ctx(c), h.keys, c.Param("id"))
	if err != nil {
		return err
	}
	p := pointByName(c.FormValue("point"))
	f := page.FormValues(c, p.Fields...)
	params, ok := tryParams(p, f)
	status := http.StatusUnprocessableEntity
	var result *views.TryResult
	switch {
	case !ok:
	case e.KeyErr != nil:
		f.Error = e.KeyErr.Error()
	default:
		status, result = http.StatusOK, h.try(c, e.Endpoint, e.APIKey(), p.Name, params)
	}
	panel := h.tryPanel(e.ID, p, f, result)
	if page.IsHTMX(c) {
		return page.Render(c, status, views.TryPanelFragment(panel))
	}
	ef := views.NewForm()
	ef.Values["name"], ef.Values["endpoint"], ef.Values["api_key"] = e.Name, e.Endpoint, e.MaskedKey
	return h.renderExtension(c, status, e, ef, panel)
}

// tryParams validates the fields and builds the point's params; field
// errors go into f.
func tryParams(p views.ExtensionPoint, f *views.Form) (map[string]any, bool) {
	params := map[string]any{}
	for _, name := range p.Fields {
		v := f.Values[name]
		switch {
		case name == "app_id" && v == "":
			f.Errors[name] = "app_id is required."
		case name == "inputs":
			inputs, msg := jsonObject(v)
			if msg != "" {
				f.Errors[name] = msg
			}
			params[name] = inputs
		default:
			params[name] = v
		}
	}
	return params, len(f.Errors) == 0
}

// jsonObject parses a JSON object ("" is {}), or says what is wrong.
func jsonObject(s string) (map[string]any, string) {
	if s == "" {
		return map[string]any{}, ""
	}
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return nil, "inputs is not valid JSON: " + err.Error() + "."
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, `inputs must be a JSON object such as {"city": "Paris"}.`
	}
	return obj, ""
}

// try sends the point and describes the answer for the panel.
func (h *Handlers) try(c echo.Context, endpoint, key, point string, params map[string]any) *views.TryResult {
	a, err := h.caller.Call(page.Ctx(c), endpoint, key, point, params)
	if err != nil {
		return &views.TryResult{Error: "No answer: " + err.Error() + "."}
	}
	r := &views.TryResult{Status: a.Status, Duration: a.Duration, Body: string(a.Body)}
	var pretty bytes.Buffer
	if json.Valid(a.Body) && json.Indent(&pretty, a.Body, "", "  ") == nil {
		r.Body, r.IsJSON = pretty.String(), true
	}
	if len(r.Body) > maxShownBody {
		cut := maxShownBody
		for cut > 0 && !utf8.RuneStart(r.Body[cut]) {
			cut--
		}
		r.Body = r.Body[:cut] + "\n… (cut at 64 KiB)"
	}
	return r
}
