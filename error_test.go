package plugboard_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/plugboard/plugboard"
)

func TestErrorStatus(t *testing.T) {
	for code, want := range map[string]int{
		plugboard.EINVALID:     http.StatusBadRequest,
		plugboard.ENOTFOUND:    http.StatusNotFound,
		plugboard.EBUSY:        http.StatusServiceUnavailable,
		plugboard.ETIMEOUT:     http.StatusGatewayTimeout,
		plugboard.EINTERNAL:    http.StatusInternalServerError,
		"no_such_code":         http.StatusInternalServerError,
		plugboard.EFORBIDDEN:   http.StatusForbidden,
		plugboard.EUNAVAILABLE: http.StatusServiceUnavailable,
	} {
		if got := plugboard.ErrorStatus(code); got != want {
			t.Errorf("ErrorStatus(%q) = %d, want %d", code, got, want)
		}
	}
}

func TestErrorCode(t *testing.T) {
	wrapped := fmt.Errorf("outer: %w", plugboard.Errorf(plugboard.ECONFLICT, "taken"))
	if got := plugboard.ErrorCode(wrapped); got != plugboard.ECONFLICT {
		t.Errorf("ErrorCode = %q, want conflict", got)
	}
	if got := plugboard.ErrorCode(fmt.Errorf("plain")); got != plugboard.EINTERNAL {
		t.Errorf("ErrorCode of a plain error = %q, want internal", got)
	}
}
