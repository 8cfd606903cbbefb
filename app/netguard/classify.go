package netguard

import "net/netip"

// rule is a range of addresses the guard refuses, and what to call it.
type rule struct {
	prefix netip.Prefix
	kind   string
}

// rules are checked in order, so the more specific ranges come first (the
// metadata address lies inside link-local, broadcast inside reserved).
var rules = mustRules([]struct{ cidr, kind string }{
	{"169.254.169.254/32", "a cloud metadata address"},
	{"fd00:ec2::254/128", "a cloud metadata address"},
	{"0.0.0.0/32", "an unspecified address"},
	{"::/128", "an unspecified address"},
	{"255.255.255.255/32", "a broadcast address"},
	{"0.0.0.0/8", `a "this network" address (0.0.0.0/8)`},
	{"127.0.0.0/8", "a loopback address"},
	{"::1/128", "a loopback address"},
	{"10.0.0.0/8", "a private address"},
	{"172.16.0.0/12", "a private address"},
	{"192.168.0.0/16", "a private address"},
	{"fc00::/7", "a private address"},
	{"fec0::/10", "a private (site-local) address"},
	{"169.254.0.0/16", "a link-local address"},
	{"fe80::/10", "a link-local address"},
	{"100.64.0.0/10", "a carrier-grade NAT address"},
	{"192.0.0.0/24", "a reserved (IETF protocol) address"},
	{"198.18.0.0/15", "a reserved (benchmarking) address"},
	{"224.0.0.0/4", "a multicast address"},
	{"ff00::/8", "a multicast address"},
	{"240.0.0.0/4", "a reserved address"},
})

// embedsIPv4 are IPv6 ranges whose last 32 bits are an IPv4 address the
// packet ends up at (NAT64), judged by that address.
var embedsIPv4 = []netip.Prefix{
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("::/96"), // IPv4-compatible, deprecated
}

func mustRules(in []struct{ cidr, kind string }) []rule {
	out := make([]rule, len(in))
	for i, r := range in {
		out[i] = rule{netip.MustParsePrefix(r.cidr), r.kind}
	}
	return out
}

// Classify says what kind of refused address addr is, with its article
// ("a loopback address"), or "" for an ordinary public address.
// IPv4-mapped and NAT64 IPv6 forms are judged by their IPv4 address, and a
// zoned address (fe80::1%eth0, ::1%lo) by its address: the zone only names
// the interface, and netip's prefixes never contain a zoned address.
func Classify(addr netip.Addr) string {
	addr = addr.WithZone("").Unmap()
	if addr.Is6() && !addr.IsUnspecified() && !addr.IsLoopback() {
		for _, p := range embedsIPv4 {
			if p.Contains(addr) {
				b := addr.As16()
				return Classify(netip.AddrFrom4([4]byte(b[12:])))
			}
		}
	}
	for _, r := range rules {
		if r.prefix.Contains(addr) {
			return r.kind
		}
	}
	return ""
}
