package plugboard

import (
	"errors"
	"fmt"
	"net/http"
)

// Error codes: what kind of failure an *Error is. The daemon's API puts the
// code into its answers, its client reads it back, and the admin app answers
// by it, so a code names the same failure on both sides of the API.
const (
	EINVALID      = "invalid"
	ENOTFOUND     = "not_found"
	ECONFLICT     = "conflict"
	EUNAUTHORIZED = "unauthorized"
	EFORBIDDEN    = "forbidden"
	EUNAVAILABLE  = "unavailable"
	ETIMEOUT      = "timeout"
	EBUSY         = "busy" // at capacity right now; retrying later may succeed
	EINTERNAL     = "internal"
)

// statuses is the one table from codes to HTTP statuses: the daemon's API
// and the admin app both answer by it.
var statuses = map[string]int{
	EINVALID:      http.StatusBadRequest,
	ENOTFOUND:     http.StatusNotFound,
	ECONFLICT:     http.StatusConflict,
	EUNAUTHORIZED: http.StatusUnauthorized,
	EFORBIDDEN:    http.StatusForbidden,
	EUNAVAILABLE:  http.StatusServiceUnavailable,
	ETIMEOUT:      http.StatusGatewayTimeout,
	EBUSY:         http.StatusServiceUnavailable,
	EINTERNAL:     http.StatusInternalServerError,
}

// ErrorStatus is the HTTP status of code; 500 for a code that is not ours.
func ErrorStatus(code string) int {
	if s, ok := statuses[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Error is an error with a code and a caller-facing message.
type Error struct {
	Code    string
	Message string
}

// Error returns the caller-facing message.
func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err, or EINTERNAL for errors that are not ours.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the caller-facing message of err; errors that are not
// ours read "internal error" so their details stay in the logs.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
