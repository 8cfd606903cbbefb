package page

import (
	"errors"
	"net/url"
	"time"

	"github.com/plugboard/plugboard"
)

// DaemonTimeout bounds the daemon's health check; a transport error that
// timed out is worded with it.
const DaemonTimeout = 1500 * time.Millisecond

// DaemonProblem words a failed daemon call for the page.
func DaemonProblem(err error) string {
	if plugboard.ErrorCode(err) == plugboard.EINTERNAL {
		return "The daemon did not answer: " + TransportError(err) + "."
	}
	return plugboard.ErrorMessage(err)
}

// TransportError words a failed HTTP call without repeating its URL.
func TransportError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return "no answer within " + DaemonTimeout.String()
		}
		err = ue.Err
	}
	return err.Error()
}
