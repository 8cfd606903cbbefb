package sdk

import (
	"errors"
	"fmt"
)

// Error types sent in session error frames. The names follow Dify's, so a
// Dify backend maps them to the same exceptions.
const (
	ErrTypeInvoke      = "ToolInvokeError"
	ErrTypeCredentials = "ToolProviderCredentialValidationError"
	ErrTypeNotFound    = "ToolNotFoundError"
	ErrTypeBadRequest  = "BadRequestError"
	ErrTypePanic       = "PluginPanicError"
)

// Error is a handler error with an explicit error_type and args for the
// session error frame. Any other error is sent with a default type.
type Error struct {
	Type    string
	Message string
	Args    map[string]any
}

func (e *Error) Error() string { return e.Type + ": " + e.Message }

// Errorf returns an *Error of the given type.
func Errorf(typ, format string, args ...any) *Error {
	return &Error{Type: typ, Message: fmt.Sprintf(format, args...)}
}

// errorData turns err into the payload of a session error frame, typed
// defType unless err carries an *Error.
func errorData(err error, defType string) (typ, msg string, args map[string]any) {
	var e *Error
	if errors.As(err, &e) {
		args = e.Args
		if args == nil {
			args = map[string]any{}
		}
		return e.Type, e.Message, args
	}
	return defType, err.Error(), map[string]any{}
}
