package marketplace_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/app/marketplace"
	"github.com/plugboard/plugboard/app/netguard"
)

// pytoolsDir is the example Python plugin's source.
func pytoolsDir(tb testing.TB) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "examples", "plugins", "pytools")
}

// MustFolder writes pytools in each version to a new folder.
func MustFolder(tb testing.TB, versions ...string) string {
	tb.Helper()
	dir := tb.TempDir()
	for _, v := range versions {
		data, err := marketplace.PackVersion(pytoolsDir(tb), v)
		if err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "pytools-"+v+".difypkg"), data, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

// MustClient returns a client of h served on loopback, through a guard
// that allows loopback, with a short read timeout.
func MustClient(tb testing.TB, h http.Handler) *marketplace.Client {
	tb.Helper()
	srv := httptest.NewServer(h)
	tb.Cleanup(srv.Close)
	g := netguard.New(netguard.MustParseAllowlist("127.0.0.1"))
	c, err := marketplace.NewClient(srv.URL, g.Client(netguard.Timeouts{Connect: time.Second, Read: 200 * time.Millisecond}))
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func TestClient(t *testing.T) {
	c := MustClient(t, marketplace.NewServer(MustFolder(t, "0.0.1", "0.0.2")))

	t.Run("OK/Search", func(t *testing.T) {
		ps, err := c.Search(t.Context(), marketplace.Query{Q: "python", Category: "tool", Tag: "utilities"})
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) != 1 || ps[0].PluginID != "plugboard/pytools" || ps[0].LatestVersion != "0.0.2" || len(ps[0].Versions) != 2 || ps[0].Versions[1].Version != "0.0.1" {
			t.Fatalf("search = %+v", ps)
		}
	})
	t.Run("OK/SearchNoMatch", func(t *testing.T) {
		for _, q := range []marketplace.Query{{Q: "nothing-like-this"}, {Category: "model"}, {Tag: "weather"}} {
			ps, err := c.Search(t.Context(), q)
			if err != nil || len(ps) != 0 {
				t.Fatalf("search %+v = %+v, %v", q, ps, err)
			}
		}
	})
	t.Run("OK/Batch", func(t *testing.T) {
		ps, err := c.Batch(t.Context(), []string{"plugboard/pytools", "someone/else"})
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) != 1 || ps[0].LatestVersion != "0.0.2" || !strings.HasPrefix(ps[0].LatestPackageIdentifier, "plugboard/pytools:0.0.2@") {
			t.Fatalf("batch = %+v", ps)
		}
	})
	t.Run("OK/Versions", func(t *testing.T) {
		vs, err := c.Versions(t.Context(), "plugboard/pytools")
		if err != nil || len(vs) != 2 || vs[0].Version != "0.0.2" {
			t.Fatalf("versions = %+v, %v", vs, err)
		}
	})
	t.Run("OK/Download", func(t *testing.T) {
		pkg, err := c.Download(t.Context(), "plugboard/pytools", "0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		if pkg.Manifest.Version != "0.0.1" || pkg.ID.PluginID() != "plugboard/pytools" {
			t.Fatalf("downloaded %s", pkg.ID)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := c.Download(t.Context(), "plugboard/pytools", "9.9.9")
		if plugboard.ErrorCode(err) != plugboard.ENOTFOUND || !strings.Contains(err.Error(), "no version 9.9.9 of plugboard/pytools") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("ErrBadID", func(t *testing.T) {
		if _, err := c.Versions(t.Context(), "pytools"); plugboard.ErrorCode(err) != plugboard.EINVALID {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestClientBadMarketplace(t *testing.T) {
	t.Run("ErrGarbage", func(t *testing.T) {
		c := MustClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("<html>hello</html>")) }))
		_, err := c.Search(t.Context(), marketplace.Query{})
		if plugboard.ErrorCode(err) != plugboard.EUNAVAILABLE || !strings.Contains(err.Error(), `not a marketplace answer ("<html>hello</html>")`) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("ErrServerError", func(t *testing.T) {
		c := MustClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", 500) }))
		_, err := c.Batch(t.Context(), []string{"a/b"})
		if plugboard.ErrorCode(err) != plugboard.EUNAVAILABLE || !strings.Contains(err.Error(), "answered 500 Internal Server Error") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("ErrSlow", func(t *testing.T) {
		release := make(chan struct{})
		c := MustClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}))
		defer close(release)
		_, err := c.Search(t.Context(), marketplace.Query{})
		if plugboard.ErrorCode(err) != plugboard.EUNAVAILABLE || !strings.Contains(err.Error(), "did not answer in time") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("ErrUnreachable", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		url := srv.URL
		srv.Close()
		g := netguard.New(netguard.MustParseAllowlist("127.0.0.1"))
		c, err := marketplace.NewClient(url, g.Client(netguard.Timeouts{Connect: time.Second, Read: time.Second}))
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Search(t.Context(), marketplace.Query{})
		if plugboard.ErrorCode(err) != plugboard.EUNAVAILABLE || !strings.Contains(err.Error(), "can't be reached") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("ErrGuarded", func(t *testing.T) {
		srv := httptest.NewServer(marketplace.NewServer(t.TempDir()))
		defer srv.Close()
		c, _ := marketplace.NewClient(srv.URL, netguard.New(nil).Client(netguard.Timeouts{Connect: time.Second, Read: time.Second}))
		_, err := c.Search(t.Context(), marketplace.Query{})
		if plugboard.ErrorCode(err) != plugboard.EUNAVAILABLE || !strings.Contains(err.Error(), "is a loopback address") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("ErrNameMismatch", func(t *testing.T) {
		data, err := marketplace.PackVersion(pytoolsDir(t), "0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		c := MustClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(data) }))
		_, err = c.Download(t.Context(), "evil/gotools", "0.0.1")
		if plugboard.ErrorCode(err) != plugboard.EINVALID || !strings.Contains(err.Error(), "sent plugboard/pytools 0.0.1 when asked for evil/gotools 0.0.1; refused") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("ErrNotAPackage", func(t *testing.T) {
		c := MustClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("garbage")) }))
		_, err := c.Download(t.Context(), "plugboard/pytools", "0.0.1")
		if plugboard.ErrorCode(err) != plugboard.EINVALID || !strings.Contains(err.Error(), "is not a valid plugin package") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("ErrTooLarge", func(t *testing.T) {
		big := make([]byte, marketplace.MaxPackage+10)
		c := MustClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(big) }))
		_, err := c.Download(t.Context(), "plugboard/pytools", "0.0.1")
		if plugboard.ErrorCode(err) != plugboard.EINVALID || !strings.Contains(err.Error(), "larger than the limit of 15 MiB") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestPickVersion(t *testing.T) {
	avail := []string{"1.2.3", "1.2.10", "1.3.0", "2.0.0", "2.1.0-beta", "1.2.1"}
	for _, c := range []struct {
		name, strategy, installed, want string
	}{
		{"OKPatchTakesNewestPatch", "patch", "1.2.3", "1.2.10"},
		{"OKPatchNothingNewer", "patch", "1.3.0", ""},
		{"OKLatestTakesNewest", "latest", "1.2.3", "2.0.0"},
		{"OKLatestAlreadyNewest", "latest", "2.0.0", ""},
		{"OKLatestSkipsPreRelease", "latest", "2.0.0", ""},
		{"OKNeverDowngrades", "latest", "3.0.0", ""},
		{"OKDisabled", "disabled", "1.2.3", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := marketplace.PickVersion(c.strategy, c.installed, avail); got != c.want {
				t.Errorf("PickVersion(%s, %s) = %q, want %q", c.strategy, c.installed, got, c.want)
			}
		})
	}
}

func TestIcon(t *testing.T) {
	c := MustClient(t, marketplace.NewServer(MustFolder(t, "0.0.1")))
	t.Run("OK", func(t *testing.T) {
		data, ctype, err := c.Icon(t.Context(), "plugboard/pytools", "0.0.1")
		if err != nil || ctype != "image/svg+xml" || !strings.Contains(string(data), "<svg") {
			t.Fatalf("icon = %d bytes of %q, %v", len(data), ctype, err)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		if _, _, err := c.Icon(t.Context(), "plugboard/pytools", "0.0.9"); plugboard.ErrorCode(err) != plugboard.ENOTFOUND {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("ErrNotAnImage", func(t *testing.T) {
		bad := MustClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write([]byte("<script>"))
		}))
		if _, _, err := bad.Icon(t.Context(), "plugboard/pytools", "0.0.1"); plugboard.ErrorCode(err) != plugboard.EUNAVAILABLE || !strings.Contains(err.Error(), "not an image") {
			t.Fatalf("err = %v", err)
		}
	})
}
