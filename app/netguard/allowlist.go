package netguard

import (
	"fmt"
	"net/netip"
	"strings"
)

// Allowlist names the hosts and networks outbound requests may reach even
// though their addresses would be refused: a host name (matched exactly,
// case-insensitively, against the URL's host), an IP address, or a CIDR.
// The zero value allows nothing.
type Allowlist struct {
	hosts   map[string]bool
	nets    []netip.Prefix
	entries []string
}

// ParseAllowlist reads entries separated by commas, spaces or new lines:
// "localhost, 127.0.0.1, 10.0.0.0/8, api.internal". An entry that is none
// of a host name, an address or a CIDR is an error naming it.
func ParseAllowlist(s string) (*Allowlist, error) {
	a := &Allowlist{hosts: map[string]bool{}}
	for _, e := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' }) {
		if err := a.add(e); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// MustParseAllowlist is ParseAllowlist for lists known to be valid; it
// panics on an error.
func MustParseAllowlist(s string) *Allowlist {
	a, err := ParseAllowlist(s)
	if err != nil {
		panic(err)
	}
	return a
}

// add adds one entry.
func (a *Allowlist) add(e string) error {
	switch {
	case strings.Contains(e, "/"):
		p, err := netip.ParsePrefix(e)
		if err != nil {
			return fmt.Errorf("%q is not a CIDR such as 10.0.0.0/8 or fd00::/8", e)
		}
		a.nets = append(a.nets, netip.PrefixFrom(p.Addr().Unmap(), unmappedBits(p)).Masked())
	case isAddr(e):
		ip, _ := netip.ParseAddr(strings.Trim(e, "[]"))
		ip = ip.WithZone("").Unmap()
		a.nets = append(a.nets, netip.PrefixFrom(ip, ip.BitLen()))
	case validHost(e):
		a.hosts[strings.ToLower(strings.TrimSuffix(e, "."))] = true
	default:
		return fmt.Errorf("%q is not a host name, an IP address or a CIDR", e)
	}
	a.entries = append(a.entries, e)
	return nil
}

// unmappedBits is a prefix's length after turning an IPv4-mapped prefix
// (::ffff:10.0.0.0/104) into its IPv4 form (10.0.0.0/8).
func unmappedBits(p netip.Prefix) int {
	if p.Addr().Is4In6() {
		return max(p.Bits()-96, 0)
	}
	return p.Bits()
}

func isAddr(e string) bool {
	_, err := netip.ParseAddr(strings.Trim(e, "[]"))
	return err == nil
}

// validHost accepts DNS names: letters, digits, '-', '_' and dots, labels
// at most 63 bytes, 253 in all.
func validHost(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(h, "."), ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}

// Allows reports whether the allowlist names host (when not "") or a
// network containing addr (its zone, if any, ignored).
func (a *Allowlist) Allows(host string, addr netip.Addr) bool {
	if a == nil {
		return false
	}
	if host != "" && a.hosts[strings.ToLower(strings.TrimSuffix(host, "."))] {
		return true
	}
	addr = addr.WithZone("").Unmap()
	for _, p := range a.nets {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// Entries returns the entries as written, in order.
func (a *Allowlist) Entries() []string {
	if a == nil {
		return nil
	}
	return append([]string(nil), a.entries...)
}

// String is the list in the form ParseAllowlist reads, one entry a line.
func (a *Allowlist) String() string { return strings.Join(a.Entries(), "\n") }

// Merge returns a list holding the entries of both (either may be nil).
func Merge(a, b *Allowlist) *Allowlist {
	out, _ := ParseAllowlist(a.String() + "\n" + b.String())
	return out
}
