// Package errs is the daemon's small error type: a code that says what kind of
// failure it is, and a message fit to show to the caller.
package errs

import (
	"errors"
	"fmt"
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
