package netguard_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plugboard/plugboard/app/netguard"
)

// short keeps a test that goes wrong from waiting long; refused requests
// never connect at all.
var short = netguard.Timeouts{Connect: 2 * time.Second, Read: 5 * time.Second}

// MustServer starts a loopback test server answering "hello".
func MustServer(tb testing.TB) *httptest.Server {
	tb.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") }))
	tb.Cleanup(srv.Close)
	return srv
}

// get fetches a URL through a guarded client.
func get(tb testing.TB, g *netguard.Guard, u string) (string, error) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		tb.Fatal(err)
	}
	resp, err := g.Client(short).Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// wantRefused fails unless err is the guard's refusal of addr as kind.
func wantRefused(tb testing.TB, err error, addr, kind string) {
	tb.Helper()
	var re *netguard.RefusedError
	if !errors.As(err, &re) {
		tb.Fatalf("err = %v, want a *netguard.RefusedError", err)
	}
	if re.Addr.String() != addr || re.Kind != kind {
		tb.Fatalf("refused %s as %q, want %s as %q", re.Addr, re.Kind, addr, kind)
	}
	if !strings.Contains(err.Error(), "add the host or CIDR to the outbound allowlist") {
		tb.Fatalf("message does not say how to allow it: %v", err)
	}
}

func TestGuardRefuses(t *testing.T) {
	g := netguard.New(nil)
	for _, tc := range []struct{ name, url, addr, kind string }{
		{"ErrLoopbackV4", "http://127.0.0.1:1/", "127.0.0.1", "a loopback address"},
		{"ErrPrivate", "http://10.0.0.1/", "10.0.0.1", "a private address"},
		{"ErrMetadata", "http://169.254.169.254/latest/meta-data/", "169.254.169.254", "a cloud metadata address"},
		{"ErrLoopbackV6", "http://[::1]:1/", "::1", "a loopback address"},
		{"ErrMappedLoopback", "http://[::ffff:127.0.0.1]:1/", "127.0.0.1", "a loopback address"},
		{"ErrUnspecified", "http://0.0.0.0:1/", "0.0.0.0", "an unspecified address"},
		{"ErrCGNAT", "http://100.64.1.1/", "100.64.1.1", "a carrier-grade NAT address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := get(t, g, tc.url)
			wantRefused(t, err, tc.addr, tc.kind)
		})
	}
	t.Run("ErrMessage", func(t *testing.T) {
		_, err := get(t, g, "http://127.0.0.1:1/")
		var re *netguard.RefusedError
		errors.As(err, &re)
		const want = "refused: 127.0.0.1 is a loopback address (add the host or CIDR to the outbound allowlist to allow it)"
		if re.Error() != want {
			t.Fatalf("message\n%s\nwant\n%s", re.Error(), want)
		}
	})
	t.Run("ErrHostResolvingToLoopback", func(t *testing.T) {
		srv := MustServer(t)
		_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
		_, err := get(t, g, "http://localhost:"+port+"/")
		var re *netguard.RefusedError
		if !errors.As(err, &re) || re.Host != "localhost" || !re.Addr.IsLoopback() {
			t.Fatalf("err = %v, want localhost refused as loopback", err)
		}
		if !strings.Contains(re.Error(), "localhost (") {
			t.Fatalf("message does not name the host: %v", re)
		}
	})
}

func TestGuardAllowlist(t *testing.T) {
	srv := MustServer(t)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	t.Run("OKCIDR", func(t *testing.T) {
		g := netguard.New(netguard.MustParseAllowlist("127.0.0.0/8"))
		if body, err := get(t, g, srv.URL); err != nil || body != "hello" {
			t.Fatalf("body %q, err %v", body, err)
		}
	})
	t.Run("OKAddress", func(t *testing.T) {
		g := netguard.New(netguard.MustParseAllowlist("127.0.0.1"))
		if body, err := get(t, g, srv.URL); err != nil || body != "hello" {
			t.Fatalf("body %q, err %v", body, err)
		}
	})
	t.Run("OKHostName", func(t *testing.T) {
		g := netguard.New(netguard.MustParseAllowlist("LocalHost"))
		if body, err := get(t, g, "http://localhost:"+port+"/"); err != nil || body != "hello" {
			t.Fatalf("body %q, err %v", body, err)
		}
		// The name is allowed, not the address it resolves to.
		_, err := get(t, g, srv.URL)
		wantRefused(t, err, "127.0.0.1", "a loopback address")
	})
	t.Run("OKChangedAtRunTime", func(t *testing.T) {
		g := netguard.New(nil)
		if _, err := get(t, g, srv.URL); err == nil {
			t.Fatal("allowed before the allowlist named it")
		}
		g.SetAllowlist(netguard.MustParseAllowlist("127.0.0.1/32"))
		if _, err := get(t, g, srv.URL); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("ErrNarrowedAtRunTime", func(t *testing.T) {
		g := netguard.New(netguard.MustParseAllowlist("127.0.0.1"))
		client := g.Client(short)
		for i, allowed := range []bool{true, false} {
			resp, err := client.Get(srv.URL)
			if err == nil {
				resp.Body.Close()
			}
			if (err == nil) != allowed {
				t.Fatalf("request %d: err = %v, want allowed=%v", i, err, allowed)
			}
			g.SetAllowlist(nil) // a kept-alive connection must not outlive this
		}
	})
	t.Run("ErrOtherLoopbackAddress", func(t *testing.T) {
		g := netguard.New(netguard.MustParseAllowlist("127.0.0.1"))
		_, err := get(t, g, "http://127.0.0.2:"+port+"/")
		wantRefused(t, err, "127.0.0.2", "a loopback address")
	})
}

func TestGuardRedirects(t *testing.T) {
	target := MustServer(t)
	redirect := func(to string) *httptest.Server {
		srv := httptest.NewServer(http.RedirectHandler(to, http.StatusFound))
		t.Cleanup(srv.Close)
		return srv
	}
	allow := netguard.MustParseAllowlist("127.0.0.1")
	t.Run("OKToAllowed", func(t *testing.T) {
		if body, err := get(t, netguard.New(allow), redirect(target.URL).URL); err != nil || body != "hello" {
			t.Fatalf("body %q, err %v", body, err)
		}
	})
	t.Run("ErrToMetadata", func(t *testing.T) {
		_, err := get(t, netguard.New(allow), redirect("http://169.254.169.254/latest/meta-data/").URL)
		wantRefused(t, err, "169.254.169.254", "a cloud metadata address")
	})
	t.Run("ErrToOtherLoopback", func(t *testing.T) {
		_, port, _ := net.SplitHostPort(target.Listener.Addr().String())
		_, err := get(t, netguard.New(allow), redirect("http://[::1]:"+port+"/").URL)
		wantRefused(t, err, "::1", "a loopback address")
	})
	t.Run("ErrToOtherScheme", func(t *testing.T) {
		_, err := get(t, netguard.New(allow), redirect("file:///etc/passwd").URL)
		if err == nil || !strings.Contains(err.Error(), "only http and https") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestClassify(t *testing.T) {
	for addr, want := range map[string]string{
		"8.8.8.8":                "",
		"2606:4700::1111":        "",
		"172.16.0.1":             "a private address",
		"172.32.0.1":             "",
		"192.168.1.1":            "a private address",
		"fd12::1":                "a private address",
		"fe80::1":                "a link-local address",
		"169.254.1.1":            "a link-local address",
		"fd00:ec2::254":          "a cloud metadata address",
		"224.0.0.1":              "a multicast address",
		"ff02::1":                "a multicast address",
		"255.255.255.255":        "a broadcast address",
		"0.1.2.3":                `a "this network" address (0.0.0.0/8)`,
		"::":                     "an unspecified address",
		"::ffff:10.1.2.3":        "a private address",
		"::ffff:169.254.169.254": "a cloud metadata address",
		"64:ff9b::7f00:1":        "a loopback address",
		"100.127.255.255":        "a carrier-grade NAT address",
		"100.128.0.0":            "",
	} {
		if got := netguard.Classify(netip.MustParseAddr(addr)); got != want {
			t.Errorf("Classify(%s) = %q, want %q", addr, got, want)
		}
	}
}

func TestParseAllowlist(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		a, err := netguard.ParseAllowlist("localhost, 10.0.0.0/8\n[::1]  api.internal.")
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			host, addr string
			want       bool
		}{
			{"localhost", "127.0.0.1", true},
			{"", "10.9.8.7", true},
			{"", "::ffff:10.9.8.7", true},
			{"", "::1", true},
			{"API.internal", "192.168.0.1", true},
			{"", "192.168.0.1", false},
			{"evil.example", "11.0.0.1", false},
		} {
			if got := a.Allows(tc.host, netip.MustParseAddr(tc.addr)); got != tc.want {
				t.Errorf("Allows(%q, %s) = %v", tc.host, tc.addr, got)
			}
		}
		if got := strings.Join(a.Entries(), "|"); got != "localhost|10.0.0.0/8|[::1]|api.internal." {
			t.Errorf("entries %q", got)
		}
	})
	t.Run("ErrBadEntry", func(t *testing.T) {
		for in, want := range map[string]string{
			"10.0.0.0/33":   `"10.0.0.0/33" is not a CIDR`,
			"http://x.test": `"http://x.test" is not a CIDR`,
			"bad_host!":     `"bad_host!" is not a host name, an IP address or a CIDR`,
			"ok.test, a..b": `"a..b" is not a host name`,
		} {
			if _, err := netguard.ParseAllowlist(in); err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Errorf("ParseAllowlist(%q) = %v, want %s…", in, err, want)
			}
		}
	})
}

func TestCheckURL(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		for _, in := range []string{"http://example.com/x", "https://10.0.0.1:8443/api"} {
			if _, err := netguard.CheckURL(in); err != nil {
				t.Errorf("CheckURL(%q): %v", in, err)
			}
		}
	})
	t.Run("ErrScheme", func(t *testing.T) {
		for _, in := range []string{"ftp://example.com/", "file:///etc/passwd", "example.com/api", "gopher://x"} {
			if _, err := netguard.CheckURL(in); !errors.Is(err, netguard.ErrScheme) {
				t.Errorf("CheckURL(%q) = %v, want ErrScheme", in, err)
			}
		}
	})
	t.Run("ErrNoHost", func(t *testing.T) {
		if _, err := netguard.CheckURL("http:///path"); err == nil || !strings.Contains(err.Error(), "has no host") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("ErrUserInfo", func(t *testing.T) {
		_, err := netguard.CheckURL("https://user:hunter2@example.com/")
		if err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("ErrNotAURL", func(t *testing.T) {
		if _, err := netguard.CheckURL("http://exa mple.com/"); err == nil {
			t.Fatal("accepted a host with a space")
		}
	})
}

// MustCountingServer starts a test server on the loopback address host
// ("127.0.0.1" or "::1") that counts the requests reaching it.
func MustCountingServer(tb testing.TB, host string) (port string, hits *atomic.Int64) {
	tb.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		tb.Skipf("no listener on %s: %v", host, err)
	}
	hits = &atomic.Int64{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		io.WriteString(w, "hello")
	}))
	srv.Listener = ln
	srv.Start()
	tb.Cleanup(srv.Close)
	_, port, _ = net.SplitHostPort(ln.Addr().String())
	return port, hits
}

// TestGuardZonedAndMappedAddresses sends the spellings of loopback and
// link-local addresses that have slipped past address checks (IPv6 zones,
// IPv4-mapped and -compatible forms, NAT64) at real loopback listeners:
// each is refused, judged by its address, and no request arrives.
func TestGuardZonedAndMappedAddresses(t *testing.T) {
	g := netguard.New(nil)
	port6, hits6 := MustCountingServer(t, "::1")
	port4, hits4 := MustCountingServer(t, "127.0.0.1")
	for _, tc := range []struct{ name, url, addr, kind string }{
		{"ErrLoopbackZoneName", "http://[::1%25lo]:" + port6 + "/", "::1%lo", "a loopback address"},
		{"ErrLoopbackZoneIndex", "http://[::1%251]:" + port6 + "/", "::1%1", "a loopback address"},
		{"ErrLinkLocalZone", "http://[fe80::1%25lo]:" + port6 + "/", "fe80::1%lo", "a link-local address"},
		{"ErrLoopbackLongForm", "http://[0:0:0:0:0:0:0:1]:" + port6 + "/", "::1", "a loopback address"},
		{"ErrMappedLoopbackHex", "http://[::ffff:7f00:1]:" + port4 + "/", "127.0.0.1", "a loopback address"},
		{"ErrMappedLoopbackZone", "http://[::ffff:127.0.0.1%25lo]:" + port4 + "/", "127.0.0.1", "a loopback address"},
		{"ErrCompatibleLoopback", "http://[::127.0.0.1]:" + port4 + "/", "::7f00:1", "a loopback address"},
		{"ErrNAT64Loopback", "http://[64:ff9b::127.0.0.1]:" + port4 + "/", "64:ff9b::7f00:1", "a loopback address"},
		{"ErrMappedMetadataZone", "http://[::ffff:169.254.169.254%25eth0]/", "169.254.169.254", "a cloud metadata address"},
		{"ErrPrivateZone", "http://[fd00::2%25eth0]:" + port6 + "/", "fd00::2%eth0", "a private address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := get(t, g, tc.url)
			wantRefused(t, err, tc.addr, tc.kind)
		})
	}
	if n := hits6.Load() + hits4.Load(); n != 0 {
		t.Fatalf("%d refused requests reached a loopback listener", n)
	}
	t.Run("OKAllowlistedByAddress", func(t *testing.T) {
		g := netguard.New(netguard.MustParseAllowlist("::1"))
		if body, err := get(t, g, "http://[::1%25lo]:"+port6+"/"); err != nil || body != "hello" {
			t.Fatalf("body %q, err %v", body, err)
		}
	})
	t.Run("ErrRealLinkLocalListener", func(t *testing.T) {
		addr, zone := linkLocalAddr(t)
		port, hits := MustCountingServer(t, addr+"%"+zone)
		_, err := get(t, g, "http://["+addr+"%25"+zone+"]:"+port+"/")
		wantRefused(t, err, addr+"%"+zone, "a link-local address")
		if hits.Load() != 0 {
			t.Fatal("the request reached the link-local listener")
		}
	})
}

// linkLocalAddr returns an IPv6 link-local address of this machine and its
// interface, or skips the test when there is none.
func linkLocalAddr(tb testing.TB) (addr, zone string) {
	tb.Helper()
	ifs, _ := net.Interfaces()
	for _, ifc := range ifs {
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.To4() == nil && n.IP.IsLinkLocalUnicast() {
				return n.IP.String(), ifc.Name
			}
		}
	}
	tb.Skip("no IPv6 link-local address on this machine")
	return "", ""
}
