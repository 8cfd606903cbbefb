package sdk

import (
	"encoding/json"
	"strconv"
	"strings"
)

// Request is one request from the daemon, with typed access to its tool
// parameters. Accessors return the zero value for a parameter that is absent
// or does not convert; use Has or the …Or variants to tell.
type Request struct {
	SessionID      string
	UserID         string
	Action         string // invoke_tool, validate_tool_credentials, get_tool_runtime_parameters
	Provider       string
	Tool           string
	Params         map[string]any
	Credentials    Credentials
	CredentialType string
}

// Has reports whether the parameter is present and not null.
func (r *Request) Has(name string) bool {
	v, ok := r.Params[name]
	return ok && v != nil
}

// Raw returns the parameter as decoded from JSON (nil when absent).
func (r *Request) Raw(name string) any { return r.Params[name] }

// String returns the parameter as a string: numbers and booleans are
// formatted, objects and arrays given as JSON.
func (r *Request) String(name string) string { return toString(r.Params[name]) }

// StringOr returns the parameter as a string, or def when absent or empty.
func (r *Request) StringOr(name, def string) string {
	if s := r.String(name); s != "" {
		return s
	}
	return def
}

// Number returns the parameter as a float64 (numeric strings are parsed).
func (r *Request) Number(name string) float64 { return r.NumberOr(name, 0) }

// Float is Number.
func (r *Request) Float(name string) float64 { return r.Number(name) }

// NumberOr returns the parameter as a float64, or def when it is absent or
// not a number.
func (r *Request) NumberOr(name string, def float64) float64 {
	if f, ok := toNumber(r.Params[name]); ok {
		return f
	}
	return def
}

// Int returns the parameter as an int, truncating any fraction.
func (r *Request) Int(name string) int { return r.IntOr(name, 0) }

// IntOr returns the parameter as an int, or def when it is absent or not a number.
func (r *Request) IntOr(name string, def int) int {
	if f, ok := toNumber(r.Params[name]); ok {
		return int(f)
	}
	return def
}

// Bool returns the parameter as a bool: true, "true", "1", "yes", "on" or a
// non-zero number.
func (r *Request) Bool(name string) bool { return toBool(r.Params[name]) }

// Credentials are a provider's credentials as sent with a request.
type Credentials map[string]any

// String returns the credential as a string ("" when absent).
func (c Credentials) String(name string) string { return toString(c[name]) }

// Has reports whether the credential is present and not empty.
func (c Credentials) Has(name string) bool { return c.String(name) != "" }

// Bool returns the credential as a bool, as Request.Bool reads a parameter
// (a switch field's "true", say).
func (c Credentials) Bool(name string) bool { return toBool(c[name]) }

func toString(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	case json.Number:
		return v.String()
	}
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

func toNumber(v any) (float64, bool) {
	switch v := v.(type) {
	case float64:
		return v, true
	case int:
		return float64(v), true
	case json.Number:
		f, err := v.Float64()
		return f, err == nil
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		return f, err == nil
	case bool:
		if v {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

func toBool(v any) bool {
	switch v := v.(type) {
	case bool:
		return v
	case float64:
		return v != 0
	case string:
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true", "1", "yes", "on":
			return true
		}
	}
	return false
}
