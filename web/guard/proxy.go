package guard

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/labstack/echo/v4"
)

// ParseTrustedProxies reads the networks of trusted reverse proxies: CIDRs
// or single addresses, separated by commas or spaces ("10.0.0.0/8,
// 127.0.0.1"). An entry that is neither is an error naming it.
func ParseTrustedProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, e := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' }) {
		if p, err := netip.ParsePrefix(e); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(e)
		if err != nil || a.Zone() != "" {
			return nil, fmt.Errorf("%q is not a CIDR such as 10.0.0.0/8 or an IP address", e)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// TrustOptions makes echo believe forwarding headers only from a direct
// peer in the trusted networks: not from loopback, link-local or private
// addresses as such (a plugin on this host could then pick its own
// address), nor from anyone when there are none.
func TrustOptions(trusted []netip.Prefix) []echo.TrustOption {
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range trusted {
		_, n, _ := net.ParseCIDR(p.String())
		opts = append(opts, echo.TrustIPRange(n))
	}
	return opts
}

// ClientIP returns the extractor of the client's address: the direct peer,
// or, for a request from a trusted proxy, the nearest untrusted address of
// X-Forwarded-For, else its X-Real-IP.
func ClientIP(trusted []netip.Prefix) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	xff := echo.ExtractIPFromXFFHeader(TrustOptions(trusted)...)
	realIP := echo.ExtractIPFromRealIPHeader(TrustOptions(trusted)...)
	return func(r *http.Request) string {
		if r.Header.Get(echo.HeaderXForwardedFor) != "" {
			return xff(r)
		}
		return realIP(r)
	}
}
