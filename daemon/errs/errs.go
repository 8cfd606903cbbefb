// Package errs is the daemon's small error type: a code that says what kind of
// failure it is, and a message fit to show to the caller.
package errs

import (
	"errors"
	"fmt"
	"net/http"
)

// Error codes.
const (
	Invalid      = "invalid"
	NotFound     = "not_found"
	Conflict     = "conflict"
	Unauthorized = "unauthorized"
	Forbidden    = "forbidden"
	Unavailable  = "unavailable"
	Timeout      = "timeout"
	Busy         = "busy" // at capacity right now; retrying later may succeed
	Internal     = "internal"
)

// statuses is the one table from codes to HTTP statuses: the daemon's API
// and the admin app both answer by it.
var statuses = map[string]int{
	Invalid:      http.StatusBadRequest,
	NotFound:     http.StatusNotFound,
	Conflict:     http.StatusConflict,
	Unauthorized: http.StatusUnauthorized,
	Forbidden:    http.StatusForbidden,
	Unavailable:  http.StatusServiceUnavailable,
	Timeout:      http.StatusGatewayTimeout,
	Busy:         http.StatusServiceUnavailable,
	Internal:     http.StatusInternalServerError,
}

// Status is the HTTP status of code; 500 for a code that is not ours.
func Status(code string) int {
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

func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Code returns the code of err, or Internal for errors that are not ours.
func Code(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// Message returns the caller-facing message of err; errors that are not ours
// read "internal error" so their details stay in the logs.
func Message(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
