// Package callback answers plugins' calls back into their host (Dify's
// "backwards invocation"), as Dify's daemon does: a call back from a model
// session is refused, each type is gated by the manifest's
// resource.permission, the request gets the session's tenant_id, user_id
// and type, storage is answered from the daemon's own database, and every
// other type is forwarded to the platform's inner API (package innerapi),
// its reply turned into backwards_response frames. Plugboard adds bounds:
// the depth of calls back (a tool calling a tool calling …), the time of
// each and their rate per plugin.
package callback

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/innerapi"
	"github.com/plugboard/plugboard/daemon/metrics"
	"github.com/plugboard/plugboard/daemon/runtime"
	"github.com/plugboard/plugboard/daemon/state"
)

// Defaults of Config's zero fields.
const (
	DefaultTimeout    = 5 * time.Minute
	DefaultRate       = 20 // calls back per second and plugin
	DefaultBurst      = 40
	DefaultMaxStorage = 100 << 20 // bytes per tenant and plugin (Dify's PERSISTENCE_STORAGE_MAX_SIZE)
)

// Config sets up a Service; zero fields take the defaults above.
type Config struct {
	// PlatformURL is the platform's base URL (its inner API is under
	// /inner/api/); empty: only storage is answered, every other type gets
	// ErrNotConfigured.
	PlatformURL string
	// PlatformKey is sent as X-Inner-Api-Key.
	PlatformKey string
	// Timeout bounds each call back.
	Timeout time.Duration
	// Rate and Burst bound each plugin's calls back (a token bucket).
	Rate  float64
	Burst int
	// MaxStorage caps each namespace's storage whatever its manifest asks.
	MaxStorage int64
	// DB holds the storage (nil: storage calls fail).
	DB *state.DB
	// Manifest returns the declaration of the plugin a call back comes
	// from (nil when unknown: nothing is permitted but file uploads).
	Manifest func(cb *runtime.CallBack) *plugboard.Manifest
	// Client makes the requests to the platform (default: one with dial
	// and TLS handshake timeouts; each call back is bounded by Timeout).
	Client *http.Client
	// Metrics records each call back (nil records nothing).
	Metrics *metrics.Daemon
}

// ErrNotConfigured answers a forwarded call back on a daemon that has no
// platform to forward it to.
const ErrNotConfigured = "calls back into the platform are not configured on this daemon (set --platform-url)"

// Service answers calls back; it implements runtime.CallBacks. It holds no
// goroutines: each call back runs in the runtime's goroutine for it.
type Service struct {
	cfg    Config
	base   string // PlatformURL + innerapi.Prefix, without a doubled slash
	client *http.Client

	mu       sync.Mutex
	limiters map[string]*rate.Limiter // by plugin id
}

// New returns a Service with cfg's defaults filled in.
func New(cfg Config) *Service {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Rate <= 0 {
		cfg.Rate = DefaultRate
	}
	if cfg.Burst <= 0 {
		cfg.Burst = DefaultBurst
	}
	if cfg.MaxStorage <= 0 {
		cfg.MaxStorage = DefaultMaxStorage
	}
	s := &Service{cfg: cfg, client: cfg.Client, limiters: map[string]*rate.Limiter{}}
	if cfg.PlatformURL != "" {
		s.base = strings.TrimRight(cfg.PlatformURL, "/") + innerapi.Prefix
	}
	if s.client == nil {
		s.client = &http.Client{Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			TLSHandshakeTimeout: 10 * time.Second,
			MaxIdleConnsPerHost: 16,
			IdleConnTimeout:     90 * time.Second,
		}}
	}
	return s
}

// CallBack answers one call back and records it in the metrics.
func (s *Service) CallBack(ctx context.Context, cb *runtime.CallBack, r runtime.Reply) {
	start := time.Now()
	outcome := s.answer(ctx, cb, r)
	typ := cb.Type
	if _, ok := kinds[typ]; !ok {
		typ = "unsupported" // a label per made-up type would grow without bound
	}
	s.cfg.Metrics.CallBack(cb.PluginID, typ, outcome, time.Since(start))
}

// answer answers the call back, in Dify's order: the model-session
// refusal, the permission, then Plugboard's bounds (depth, rate), the
// request's session fields and required fields, then storage or the
// platform, within the time bound. It says how: ok, refused or error; only
// answer fails the reply (a local or forwarded answer returns its error), so
// an ok is never a failed reply.
func (s *Service) answer(ctx context.Context, cb *runtime.CallBack, r runtime.Reply) string {
	if cb.InvokeFrom == "model" {
		r.Fail("you can not invoke dify from model")
		return metrics.CallBackRefused
	}
	k, ok := kinds[cb.Type]
	if !ok {
		r.Fail("unsupported invoke type: " + cb.Type)
		return metrics.CallBackRefused
	}
	if !k.allowed(s.permission(cb)) {
		r.Fail(k.denied)
		return metrics.CallBackRefused
	}
	if msg := s.bound(cb); msg != "" {
		r.Fail(msg)
		return metrics.CallBackRefused
	}
	cb.Request["tenant_id"], cb.Request["user_id"], cb.Request["type"] = cb.Tenant, cb.UserID, cb.Type
	if err := k.check(cb.Request); err != nil {
		r.Fail("unmarshal backwards invoke request failed: " + err.Error())
		return metrics.CallBackError
	}
	ctx, cancel := context.WithTimeoutCause(ctx, s.cfg.Timeout, errTooLong)
	defer cancel()
	var err error
	if k.local != nil {
		err = k.local(ctx, s, cb, r)
	} else {
		err = s.forward(ctx, k, cb, r)
	}
	if err == nil {
		return metrics.CallBackOK
	}
	if errors.Is(context.Cause(ctx), errTooLong) {
		err = fmt.Errorf("call back %s took longer than %s, the daemon's limit for one call back", cb.Type, s.cfg.Timeout)
	}
	r.Fail(err.Error())
	return metrics.CallBackError
}

var errTooLong = errors.New("call back took too long")

// permission is the calling plugin's resource.permission.
func (s *Service) permission(cb *runtime.CallBack) plugboard.Permission {
	if s.cfg.Manifest == nil {
		return plugboard.Permission{}
	}
	if m := s.cfg.Manifest(cb); m != nil {
		return m.Resource.Permissions()
	}
	return plugboard.Permission{}
}

// bound applies the depth and rate limits; it returns why a call back is
// refused, or "".
func (s *Service) bound(cb *runtime.CallBack) string {
	if cb.Depth+1 > innerapi.MaxCallDepth {
		return fmt.Sprintf("call back too deep: plugin %s runs %d calls back deep, and calls back may nest at most %d deep",
			cb.PluginID, cb.Depth, innerapi.MaxCallDepth)
	}
	if !s.limiter(cb.PluginID).Allow() {
		return fmt.Sprintf("too many calls back: plugin %s may call back at most %g times a second (in bursts of %d); try again shortly",
			cb.PluginID, s.cfg.Rate, s.cfg.Burst)
	}
	return ""
}

func (s *Service) limiter(pluginID string) *rate.Limiter {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.limiters[pluginID]
	if l == nil {
		l = rate.NewLimiter(rate.Limit(s.cfg.Rate), s.cfg.Burst)
		s.limiters[pluginID] = l
	}
	return l
}
