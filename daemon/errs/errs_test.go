package errs_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/plugboard/plugboard/daemon/errs"
)

func TestStatus(t *testing.T) {
	for code, want := range map[string]int{
		errs.Invalid:     http.StatusBadRequest,
		errs.NotFound:    http.StatusNotFound,
		errs.Busy:        http.StatusServiceUnavailable,
		errs.Timeout:     http.StatusGatewayTimeout,
		errs.Internal:    http.StatusInternalServerError,
		"no_such_code":   http.StatusInternalServerError,
		errs.Forbidden:   http.StatusForbidden,
		errs.Unavailable: http.StatusServiceUnavailable,
	} {
		if got := errs.Status(code); got != want {
			t.Errorf("Status(%q) = %d, want %d", code, got, want)
		}
	}
}

func TestCode(t *testing.T) {
	wrapped := fmt.Errorf("outer: %w", errs.Errorf(errs.Conflict, "taken"))
	if got := errs.Code(wrapped); got != errs.Conflict {
		t.Errorf("Code = %q, want conflict", got)
	}
	if got := errs.Code(fmt.Errorf("plain")); got != errs.Internal {
		t.Errorf("Code of a plain error = %q, want internal", got)
	}
}
