// Package netguard makes outbound HTTP requests on a user's behalf safe from
// server-side request forgery (SSRF). Its client checks every address it
// connects to — after DNS resolution, at dial time, so a name that resolves
// differently on the second lookup (DNS rebinding) cannot slip through, and
// on every redirect, since each hop dials again — and refuses loopback,
// private, link-local, carrier-grade NAT, multicast, unspecified, broadcast,
// reserved and cloud-metadata addresses unless an administrator's allowlist
// names the host or a network containing the address.
//
// Use it for any request whose URL a user typed (API-based extensions, a
// playground, a marketplace mirror):
//
//	g := netguard.New(allow)
//	client := g.Client(netguard.Timeouts{Connect: 5 * time.Second, Read: 60 * time.Second})
//	if _, err := netguard.CheckURL(endpoint); err != nil { … }
//	resp, err := client.Do(req)
//	var refused *netguard.RefusedError
//	if errors.As(err, &refused) { … }
package netguard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// Guard decides which addresses outbound requests may reach. Its allowlist
// can be replaced at any time (an admin edits it); requests already under
// way keep the list they started dialing with.
type Guard struct {
	allow atomic.Pointer[Allowlist]
}

// New returns a guard with the allowlist (nil: allow nothing extra).
func New(allow *Allowlist) *Guard {
	g := &Guard{}
	g.SetAllowlist(allow)
	return g
}

// SetAllowlist replaces the allowlist (nil: allow nothing extra).
func (g *Guard) SetAllowlist(allow *Allowlist) {
	if allow == nil {
		allow = &Allowlist{}
	}
	g.allow.Store(allow)
}

// Allowlist returns the current allowlist.
func (g *Guard) Allowlist() *Allowlist { return g.allow.Load() }

// RefusedError is the error of a request the guard stopped: the address is
// of a kind the guard refuses and the allowlist does not name it. Find it
// with errors.As on the error of a request.
type RefusedError struct {
	Host string     // the host name dialed ("" or the address itself for an IP literal)
	Addr netip.Addr // the resolved address that was refused
	Kind string     // what the address is, with its article: "a loopback address"
}

// Error says what was refused and how to allow it.
func (e *RefusedError) Error() string {
	what := e.Addr.String()
	if e.Host != "" && e.Host != what {
		what = e.Host + " (" + what + ")"
	}
	return "refused: " + what + " is " + e.Kind + " (add the host or CIDR to the outbound allowlist to allow it)"
}

// Check reports whether a connection to addr, reached through the host name
// host ("" for none), is allowed: nil, or a *RefusedError.
func (g *Guard) Check(host string, addr netip.Addr) error {
	addr = addr.Unmap()
	kind := Classify(addr)
	if kind == "" || g.Allowlist().Allows(host, addr) {
		return nil
	}
	return &RefusedError{Host: host, Addr: addr, Kind: kind}
}

// Timeouts bound a guarded request. Zero values mean no limit of that kind.
type Timeouts struct {
	// Connect bounds resolving and connecting (and the TLS handshake).
	Connect time.Duration
	// Read bounds the wait for the response headers after the request is
	// sent. Bound reading the body with the request's context.
	Read time.Duration
}

// maxRedirects is how many redirects a guarded client follows.
const maxRedirects = 10

// Client returns an HTTP client whose every connection, redirects included,
// goes through the guard. It ignores proxy settings from the environment (a
// proxy would be the only address checked).
func (g *Guard) Client(t Timeouts) *http.Client {
	return &http.Client{Transport: g.Transport(t), CheckRedirect: checkRedirect}
}

// Transport returns an http.Transport that dials only addresses the guard
// allows, for callers that build their own client. Such a client must
// still refuse redirects to other schemes, as Client's does.
//
// Connections are not kept alive: every request dials, and is checked,
// anew, so a narrowed allowlist applies to the very next request.
func (g *Guard) Transport(t Timeouts) *http.Transport {
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           g.DialContext(t.Connect),
		TLSHandshakeTimeout:   t.Connect,
		ResponseHeaderTimeout: t.Read,
		ForceAttemptHTTP2:     true,
		DisableKeepAlives:     true,
	}
}

// DialContext returns a dial function that checks each resolved address
// just before connecting to it (net.Dialer.Control), with the host name it
// was resolved from, so an allowlisted host name is honoured.
func (g *Guard) DialContext(connect time.Duration) func(ctx context.Context, network, address string) (net.Conn, error) {
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return nil, err
		}
		d := &net.Dialer{Timeout: connect, KeepAlive: 30 * time.Second, Control: g.control(host)}
		return d.DialContext(ctx, network, address)
	}
}

// control is the dialer's Control hook: it runs on the resolved address
// right before the connect system call.
func (g *Guard) control(host string) func(network, address string, _ syscall.RawConn) error {
	return func(network, address string, _ syscall.RawConn) error {
		addr, err := dialedAddr(address)
		if err != nil {
			return fmt.Errorf("refused: cannot read the address %q: %w", address, err)
		}
		return g.Check(host, addr)
	}
}

// dialedAddr reads the address out of the dialer's "host:port", keeping an
// IPv6 zone. The dialer writes an IPv4-mapped address with a zone as
// "127.0.0.1%lo", which netip does not read; such a zone means nothing.
func dialedAddr(address string) (netip.Addr, error) {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return netip.Addr{}, err
	}
	ip, zone, _ := strings.Cut(host, "%")
	addr, err := netip.ParseAddr(ip)
	if err != nil || zone == "" || addr.Is4() {
		return addr, err
	}
	return addr.WithZone(zone), nil
}

// checkRedirect allows at most maxRedirects hops, each to http or https;
// the guard checks the address each hop dials.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return fmt.Errorf("stopped after %d redirects", maxRedirects)
	}
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return fmt.Errorf("refused: a redirect to %q: only http and https are allowed", req.URL.Redacted())
	}
	return nil
}

// ErrScheme is returned by CheckURL for a URL that is not http or https.
var ErrScheme = errors.New("only http and https URLs are allowed")

// CheckURL parses an absolute http or https URL with a host, the only kind
// a guarded client should be given. Its errors say what is wrong.
func CheckURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%q is not a URL: %w", raw, errors.Unwrap(err))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		if u.Scheme == "" {
			return nil, fmt.Errorf("%q has no scheme: %w (write http:// or https:// first)", raw, ErrScheme)
		}
		return nil, fmt.Errorf("%q uses the %s scheme: %w", raw, u.Scheme, ErrScheme)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("%q has no host", raw)
	}
	if u.User != nil {
		return nil, fmt.Errorf("%q carries a user name or password; put credentials elsewhere", u.Redacted())
	}
	return u, nil
}
