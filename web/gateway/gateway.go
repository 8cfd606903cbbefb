// Package gateway serves the tool gateway to outside agents — MCP on /mcp
// (Streamable HTTP, the SDK's handler) and the REST API under /api/v1 —
// authenticated by an API key as a bearer token, outside the session and
// CSRF chain (web/guard skips them; see guard.IsKeyPath), and the admins'
// page of API keys (Settings → API keys). Everything about a call is
// app/gateway's.
package gateway

import (
	"math"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/app/gateway"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/web/page"
)

// Config is what the handlers need.
type Config struct {
	Gateway     *gateway.Service
	Credentials *store.Credentials
	// PublicURL is the app's base URL ("" uses the request's).
	PublicURL string
}

// Handlers serves the gateway.
type Handlers struct {
	*page.Kit
	cfg Config
	gw  *gateway.Service
	mcp http.Handler
}

// New returns the handlers.
func New(kit *page.Kit, cfg Config) *Handlers {
	return &Handlers{Kit: kit, cfg: cfg, gw: cfg.Gateway, mcp: cfg.Gateway.MCPHandler()}
}

// Routes registers /mcp and /api/v1 for keys, and the API keys page for
// admins.
func (h *Handlers) Routes(e *echo.Echo, ch page.Chains) {
	e.Match([]string{http.MethodGet, http.MethodPost, http.MethodDelete}, "/mcp", h.serveMCP, h.requireKey)
	e.GET("/api/v1/tools", h.listTools, h.requireKey)
	e.POST("/api/v1/tools/:id/invoke", h.invoke, h.requireKey)
	e.GET("/settings/api-keys", h.keysPage, ch.Admins...)
	e.POST("/settings/api-keys", h.createKey, ch.Admins...)
	e.POST("/settings/api-keys/:id/revoke", h.revokeKey, ch.Admins...)
}

// keyContext is where requireKey puts the request's key.
const keyContext = "gateway.key"

// requireKey authenticates the bearer key — a missing, wrong, revoked or
// expired one is a bare 401 — and takes a request from its rate limit
// (429 with Retry-After when none is left).
func (h *Handlers) requireKey(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		k, err := h.gw.Authenticate(r.Context(), r.Header.Get(echo.HeaderAuthorization))
		if plugboard.ErrorCode(err) == plugboard.EUNAUTHORIZED {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, "Bearer")
			return c.NoContent(http.StatusUnauthorized)
		}
		if err != nil {
			return apiError(c, err)
		}
		if ok, wait := h.gw.Allow(k); !ok {
			c.Response().Header().Set("Retry-After", strconv.Itoa(int(math.Max(1, wait.Seconds()))))
			return c.JSON(http.StatusTooManyRequests, map[string]string{"error": "This key's rate limit is reached; retry after the time in Retry-After."})
		}
		c.Set(keyContext, k)
		c.SetRequest(r.WithContext(gateway.WithKey(r.Context(), k, c.RealIP(), h.baseURL(c))))
		return next(c)
	}
}

func currentKey(c echo.Context) *store.APIKey { k, _ := c.Get(keyContext).(*store.APIKey); return k }

// baseURL is the app's address as plugins reach it.
func (h *Handlers) baseURL(c echo.Context) string {
	if h.cfg.PublicURL != "" {
		return h.cfg.PublicURL
	}
	return c.Scheme() + "://" + c.Request().Host
}

// serveMCP hands the request to the gateway's MCP handler (which answers
// a body that is not JSON-RPC with a JSON-RPC error, and the session goes
// on).
func (h *Handlers) serveMCP(c echo.Context) error {
	h.mcp.ServeHTTP(c.Response(), c.Request())
	return nil
}

// apiError answers an error as JSON, {"error": message}, with its
// status; internal errors are logged and not worded.
func apiError(c echo.Context, err error) error {
	code := plugboard.ErrorCode(err)
	msg := plugboard.ErrorMessage(err)
	if code == plugboard.EINTERNAL {
		c.Logger().Error(err)
		msg = "internal error"
	}
	return c.JSON(page.StatusOf(code), map[string]string{"error": msg})
}
