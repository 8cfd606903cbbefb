package sdk

import (
	"errors"
	"fmt"
	"maps"

	"github.com/plugboard/plugboard/daemon/protocol"
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

// Error types of model sessions: Dify's invoke errors, which Dify's API
// raises again as the same exceptions. ErrTypeInvokeModel is the type of a
// model handler's plain error; a credential validation's plain error is an
// ErrTypeCredentialsValidateFailed.
const (
	ErrTypeInvokeModel               = "InvokeError"
	ErrTypeInvokeConnection          = protocol.ErrInvokeConnection
	ErrTypeInvokeServerUnavailable   = protocol.ErrInvokeServerUnavailable
	ErrTypeInvokeRateLimit           = protocol.ErrInvokeRateLimit
	ErrTypeInvokeAuthorization       = protocol.ErrInvokeAuthorization
	ErrTypeInvokeBadRequest          = protocol.ErrInvokeBadRequest
	ErrTypeCredentialsValidateFailed = protocol.ErrCredentialsValidateFailed
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

// InvokeErrorForStatus returns the model invoke error for an upstream
// HTTP answer of the given status, with message (the server's own, say)
// as its text: 401 and 403 are an ErrTypeInvokeAuthorization, 429 an
// ErrTypeInvokeRateLimit, 5xx an ErrTypeInvokeServerUnavailable, other 4xx
// an ErrTypeInvokeBadRequest, anything else an ErrTypeInvokeModel.
func InvokeErrorForStatus(status int, message string) *Error {
	typ := ErrTypeInvokeModel
	switch {
	case status == 401 || status == 403:
		typ = ErrTypeInvokeAuthorization
	case status == 429:
		typ = ErrTypeInvokeRateLimit
	case status >= 500 && status <= 599:
		typ = ErrTypeInvokeServerUnavailable
	case status >= 400 && status <= 499:
		typ = ErrTypeInvokeBadRequest
	}
	return &Error{Type: typ, Message: message}
}

// isModelErrType reports whether typ is one of Dify's model error types,
// whose text Dify reads from args.description in older versions and from
// message in newer ones.
func isModelErrType(typ string) bool {
	switch typ {
	case ErrTypeInvokeModel, ErrTypeInvokeConnection, ErrTypeInvokeServerUnavailable, ErrTypeInvokeRateLimit,
		ErrTypeInvokeAuthorization, ErrTypeInvokeBadRequest, ErrTypeCredentialsValidateFailed:
		return true
	}
	return false
}

// modelErrType is the error_type a model handler's plain error is sent with.
func modelErrType(action string) string {
	if action == protocol.ActionValidateProviderCredentials || action == protocol.ActionValidateModelCredentials {
		return ErrTypeCredentialsValidateFailed
	}
	return ErrTypeInvokeModel
}

// errorData turns err into the payload of a session error frame, typed
// defType unless err carries an *Error.
func errorData(err error, defType string) (typ, msg string, args map[string]any) {
	typ, msg, args = defType, err.Error(), map[string]any{}
	var e *Error
	if errors.As(err, &e) {
		typ, msg = e.Type, e.Message
		if e.Args != nil {
			args = e.Args
		}
	}
	if _, ok := args["description"]; !ok && isModelErrType(typ) {
		args = maps.Clone(args)
		args["description"] = msg
	}
	return typ, msg, args
}
