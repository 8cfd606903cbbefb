package github

import (
	"errors"
	"fmt"

	"github.com/plugboard/plugboard"
)

// Kinds of failure; find them with errors.Is on any error of this package.
var (
	ErrBadRepo     = errors.New("not a repository")
	ErrBadBaseURL  = errors.New("bad API base URL")
	ErrUnreachable = errors.New("GitHub unreachable")
	ErrTimeout     = errors.New("GitHub too slow")
	ErrGarbage     = errors.New("unexpected answer from GitHub")
	ErrNotFound    = errors.New("not found on GitHub")
	ErrRateLimited = errors.New("GitHub rate limit")
	ErrAuth        = errors.New("GitHub refused the token")
	ErrNoReleases  = errors.New("no releases")
	ErrNoPackage   = errors.New("no package asset")
	ErrTooLarge    = errors.New("asset over the size cap")
)

// Error is a failure with a message for the user. It matches its kind with
// errors.Is, and reads as an *plugboard.Error (code and message) to the web
// layer's plugboard.ErrorCode and plugboard.ErrorMessage.
type Error struct {
	Kind error
	Msg  string
}

func newError(kind error, format string, args ...any) *Error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// Error is the message for the user.
func (e *Error) Error() string { return e.Msg }

// Unwrap yields the kind and the coded error.
func (e *Error) Unwrap() []error {
	return []error{e.Kind, &plugboard.Error{Code: e.code(), Message: e.Msg}}
}

// code is the error code of the kind.
func (e *Error) code() string {
	switch e.Kind {
	case ErrUnreachable, ErrRateLimited:
		return plugboard.EUNAVAILABLE
	case ErrTimeout:
		return plugboard.ETIMEOUT
	case ErrNotFound, ErrNoReleases, ErrNoPackage:
		return plugboard.ENOTFOUND
	case ErrAuth:
		return plugboard.EUNAUTHORIZED
	}
	return plugboard.EINVALID
}
