package github_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/plugboard/plugboard/app/github"
	"github.com/plugboard/plugboard/app/github/githubtest"
	"github.com/plugboard/plugboard/app/netguard"
)

// loopback allows the stand-in's loopback address through the SSRF guard,
// explicitly, as an admin's allowlist would.
var loopback = netguard.New(netguard.MustParseAllowlist("127.0.0.1"))

var pytools = github.Repo{Owner: "plugboard", Name: "pytools"}

// MustStandIn serves a stand-in with pytools v0.2.0 and v0.1.0 releases.
func MustStandIn(tb testing.TB) (*githubtest.Server, string) {
	tb.Helper()
	gh := githubtest.New()
	gh.AddRelease("plugboard/pytools", githubtest.Release{Tag: "v0.1.0", Assets: []githubtest.Asset{
		{Name: "pytools-0.1.0.difypkg", Data: []byte("zip 0.1.0")},
	}})
	gh.AddRelease("plugboard/pytools", githubtest.Release{Tag: "v0.2.0", Name: "Second", Assets: []githubtest.Asset{
		{Name: "README.txt", Data: []byte("read me")},
		{Name: "pytools-0.2.0.difypkg", Data: []byte("zip 0.2.0")},
	}})
	srv := httptest.NewServer(gh)
	tb.Cleanup(srv.Close)
	return gh, srv.URL
}

// MustClient is a client of base with opts' other fields.
func MustClient(tb testing.TB, base string, o github.Options) *github.Client {
	tb.Helper()
	o.BaseURL = base
	if o.Guard == nil {
		o.Guard = loopback
	}
	c, err := github.New(o)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func wantKind(tb testing.TB, err, kind error, says string) {
	tb.Helper()
	if !errors.Is(err, kind) {
		tb.Fatalf("err = %v, want kind %v", err, kind)
	}
	if !strings.Contains(err.Error(), says) {
		tb.Fatalf("err = %q, want it to say %q", err, says)
	}
}

func TestReleases(t *testing.T) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		_, base := MustStandIn(t)
		rels, err := MustClient(t, base, github.Options{}).Releases(ctx, pytools)
		if err != nil {
			t.Fatal(err)
		}
		if len(rels) != 2 || rels[0].Tag != "v0.2.0" || rels[0].Name != "Second" || rels[1].Tag != "v0.1.0" {
			t.Fatalf("releases = %+v", rels)
		}
		pkgs := rels[0].Packages()
		if len(pkgs) != 1 || pkgs[0].Name != "pytools-0.2.0.difypkg" || pkgs[0].Size != 9 || rels[0].PublishedAt.IsZero() {
			t.Fatalf("packages = %+v", pkgs)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		_, base := MustStandIn(t)
		_, err := MustClient(t, base, github.Options{}).Releases(ctx, github.Repo{Owner: "nobody", Name: "nothing"})
		wantKind(t, err, github.ErrNotFound, "GitHub has no repository nobody/nothing")
	})
	t.Run("ErrNoReleases", func(t *testing.T) {
		gh, base := MustStandIn(t)
		gh.AddRepo("plugboard/empty")
		_, err := MustClient(t, base, github.Options{}).Releases(ctx, github.Repo{Owner: "plugboard", Name: "empty"})
		wantKind(t, err, github.ErrNoReleases, "plugboard/empty has no releases")
	})
	t.Run("ErrGarbage", func(t *testing.T) {
		gh, base := MustStandIn(t)
		gh.Garbage = true
		_, err := MustClient(t, base, github.Options{}).Releases(ctx, pytools)
		wantKind(t, err, github.ErrGarbage, "did not answer like GitHub's API")
	})
	t.Run("ErrRateLimited", func(t *testing.T) {
		gh, base := MustStandIn(t)
		gh.RateLimited = true
		_, err := MustClient(t, base, github.Options{}).Releases(ctx, pytools)
		wantKind(t, err, github.ErrRateLimited, "rate limit is used up")
	})
	t.Run("ErrTimeout", func(t *testing.T) {
		gh, base := MustStandIn(t)
		gh.Delay = time.Minute
		_, err := MustClient(t, base, github.Options{Timeout: 100 * time.Millisecond}).Releases(ctx, pytools)
		wantKind(t, err, github.ErrTimeout, "did not answer within 100ms")
	})
	t.Run("ErrUnreachable", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		_, err = MustClient(t, "http://"+addr, github.Options{}).Releases(ctx, pytools)
		wantKind(t, err, github.ErrUnreachable, "cannot be reached")
	})
	t.Run("ErrRefusedByGuard", func(t *testing.T) {
		_, base := MustStandIn(t)
		_, err := MustClient(t, base, github.Options{Guard: netguard.New(nil)}).Releases(ctx, pytools)
		wantKind(t, err, github.ErrUnreachable, "loopback")
	})
}

func TestToken(t *testing.T) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		gh, base := MustStandIn(t)
		c := MustClient(t, base, github.Options{Token: "ghp_secret123"})
		a, err := c.Package(ctx, pytools, "v0.2.0", "pytools-0.2.0.difypkg")
		if err != nil {
			t.Fatal(err)
		}
		data, err := c.Download(ctx, a)
		if err != nil || string(data) != "zip 0.2.0" {
			t.Fatalf("download = %q, %v", data, err)
		}
		for _, h := range gh.Authorizations() {
			if h != "Bearer ghp_secret123" {
				t.Fatalf("Authorization = %q, want the bearer token on every request", h)
			}
		}
	})
	t.Run("OKNoTokenNoHeader", func(t *testing.T) {
		gh, base := MustStandIn(t)
		if _, err := MustClient(t, base, github.Options{}).Releases(ctx, pytools); err != nil {
			t.Fatal(err)
		}
		if got := gh.Authorizations(); len(got) != 1 || got[0] != "" {
			t.Fatalf("Authorization headers = %q, want one empty", got)
		}
	})
}

func TestDownload(t *testing.T) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		_, base := MustStandIn(t)
		c := MustClient(t, base, github.Options{})
		a, err := c.Package(ctx, pytools, "v0.1.0", "pytools-0.1.0.difypkg")
		if err != nil {
			t.Fatal(err)
		}
		data, err := c.Download(ctx, a)
		if err != nil || !bytes.Equal(data, []byte("zip 0.1.0")) {
			t.Fatalf("download = %q, %v", data, err)
		}
	})
	t.Run("ErrNoPackage", func(t *testing.T) {
		gh, base := MustStandIn(t)
		gh.AddRelease("plugboard/pytools", githubtest.Release{Tag: "v0.3.0", Assets: []githubtest.Asset{{Name: "source.tar.gz", Data: []byte("x")}}})
		_, err := MustClient(t, base, github.Options{}).Package(ctx, pytools, "v0.3.0", "pytools.difypkg")
		wantKind(t, err, github.ErrNoPackage, "Release v0.3.0 of plugboard/pytools has no .difypkg asset")
	})
	t.Run("ErrNoSuchPackage", func(t *testing.T) {
		_, base := MustStandIn(t)
		_, err := MustClient(t, base, github.Options{}).Package(ctx, pytools, "v0.2.0", "other.difypkg")
		wantKind(t, err, github.ErrNoPackage, `no package named "other.difypkg"`)
	})
	t.Run("ErrNoSuchRelease", func(t *testing.T) {
		_, base := MustStandIn(t)
		_, err := MustClient(t, base, github.Options{}).Package(ctx, pytools, "v9", "x.difypkg")
		wantKind(t, err, github.ErrNotFound, `no release "v9"`)
	})
	t.Run("ErrTooLargeReported", func(t *testing.T) {
		_, base := MustStandIn(t)
		c := MustClient(t, base, github.Options{})
		_, err := c.Download(ctx, github.Asset{Name: "big.difypkg", Size: 20 << 20, BrowserDownloadURL: base + "/download/x"})
		wantKind(t, err, github.ErrTooLarge, "big.difypkg is 20.0 MiB; the limit is 15.0 MiB")
	})
	t.Run("ErrTooLargeStreamed", func(t *testing.T) {
		// The API claims 1 KiB; the download streams 16 MiB with no length.
		gh, base := MustStandIn(t)
		gh.AddRelease("plugboard/pytools", githubtest.Release{Tag: "v1.0.0", Assets: []githubtest.Asset{
			{Name: "huge.difypkg", Stream: 16 << 20, Size: 1024},
		}})
		c := MustClient(t, base, github.Options{})
		a, err := c.Package(ctx, pytools, "v1.0.0", "huge.difypkg")
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Download(ctx, a)
		wantKind(t, err, github.ErrTooLarge, "larger than the limit of 15.0 MiB")
	})
}

func TestNew(t *testing.T) {
	t.Run("OKDefault", func(t *testing.T) {
		c, err := github.New(github.Options{Guard: loopback})
		if err != nil || c.BaseURL() != github.DefaultBaseURL {
			t.Fatalf("New = %v, %v", c, err)
		}
	})
	t.Run("ErrBadBaseURL", func(t *testing.T) {
		_, err := github.New(github.Options{BaseURL: "ftp://example.com", Guard: loopback})
		wantKind(t, err, github.ErrBadBaseURL, "ftp scheme")
	})
}

func TestParseRepo(t *testing.T) {
	ok := map[string]string{
		"plugboard/pytools":                               "plugboard/pytools",
		"  plugboard/pytools  ":                           "plugboard/pytools",
		"https://github.com/plugboard/pytools":            "plugboard/pytools",
		"https://github.com/plugboard/pytools/":           "plugboard/pytools",
		"https://github.com/plugboard/pytools.git":        "plugboard/pytools",
		"https://github.com/plugboard/pytools/releases":   "plugboard/pytools",
		"github.com/plugboard/py.tools":                   "plugboard/py.tools",
		"http://ghe.example.com/team-a/plugin_x.git//":    "team-a/plugin_x",
		"https://github.com/langgenius/dify-plugins.git/": "langgenius/dify-plugins",
	}
	for in, want := range ok {
		t.Run("OK "+in, func(t *testing.T) {
			r, err := github.ParseRepo(in)
			if err != nil || r.String() != want {
				t.Fatalf("ParseRepo(%q) = %v, %v; want %s", in, r, err, want)
			}
		})
	}
	bad := map[string]string{
		"":                         "Enter a repository",
		"pytools":                  "is not a GitHub repository",
		"a/b/c":                    "is not a GitHub repository",
		"ftp://github.com/a/b":     "is not a GitHub repository",
		"https://github.com/a":     "is not a GitHub repository",
		"owner with space/repo":    "is not a GitHub repository",
		"-owner/repo":              "is not a GitHub repository",
		"owner/..":                 "is not a GitHub repository",
		"https://github.com/a/b c": "is not a GitHub repository",
	}
	for in, says := range bad {
		t.Run("ErrBadRepo "+in, func(t *testing.T) {
			_, err := github.ParseRepo(in)
			wantKind(t, err, github.ErrBadRepo, says)
		})
	}
}
