package web_test

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plugboard/plugboard/daemon"
	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/daemon/manager"
	"github.com/plugboard/plugboard/daemon/pkgfmt"
	"github.com/plugboard/plugboard/sdk/devkit"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/store/secret"
	"github.com/plugboard/plugboard/web"
	"github.com/plugboard/plugboard/web/guard"
	"golang.org/x/crypto/bcrypt"
)

// gotoolsPkg is the gotools example package, built once per test binary.
var gotoolsPkg struct {
	once sync.Once
	data []byte
	err  error
}

// MustGotools returns the gotools package with extra credential fields
// (a select, a boolean and a text input with a "how to get" URL) added to
// its provider, so the form's every field type is exercised; validation
// still runs the example plugin's own validate_credentials.
func MustGotools(tb testing.TB) []byte {
	tb.Helper()
	gotoolsPkg.once.Do(func() {
		data, _, err := devkit.PackDir(context.Background(), "../examples/plugins/gotools", pkgfmt.DefaultLimits(), io.Discard)
		if err == nil {
			data, err = withExtraFields(data)
		}
		gotoolsPkg.data, gotoolsPkg.err = data, err
	})
	if gotoolsPkg.err != nil {
		tb.Fatalf("pack gotools: %v", gotoolsPkg.err)
	}
	return gotoolsPkg.data
}

const extraFields = `credentials_for_provider:
  region:
    type: select
    required: true
    default: eu
    options:
      - value: eu
        label: {en_US: Europe}
      - value: us
        label: {en_US: United States}
    label: {en_US: Region}
  verbose:
    type: boolean
    label: {en_US: Verbose logging}
  account:
    type: text-input
    label: {en_US: Account}
    url: https://example.com/how-to-get-a-key
`

// withExtraFields rewrites the provider yaml inside the package.
func withExtraFields(pkg []byte) ([]byte, error) {
	zr, err := zip.NewReader(bytes.NewReader(pkg), int64(len(pkg)))
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			return nil, err
		}
		body, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return nil, err
		}
		if f.Name == "provider/gotools.yaml" {
			body = []byte(strings.Replace(string(body), "credentials_for_provider:\n", extraFields, 1))
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: zip.Deflate, ExternalAttrs: f.ExternalAttrs})
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(body); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// CredApp is the admin app with a real embedded daemon running gotools,
// a keyring, and every log line (app and daemon, debug level) captured.
type CredApp struct {
	*App
	Creds  *store.Credentials
	Daemon *client.Client
	Logs   *syncBuffer
	Path   string // the database file
}

// MustCredApp starts it all; it stops at the test's end.
func MustCredApp(tb testing.TB) *CredApp {
	tb.Helper()
	return mustCredAppLogging(tb, slog.LevelDebug)
}

// mustCredAppLogging is MustCredApp logging from level on (benchmarks
// log as a deployment does, from info).
func mustCredAppLogging(tb testing.TB, level slog.Level) *CredApp {
	tb.Helper()
	ctx := context.Background()
	dir := tb.TempDir()
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: level}))
	d, err := daemon.Start(ctx, daemon.Config{Addr: "127.0.0.1:0", APIKey: "test-key", Logger: logger,
		Manager: manager.Config{DataDir: filepath.Join(dir, "daemon"), Limits: pkgfmt.DefaultLimits(), Logger: logger}})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { d.Close(context.Background()) })
	cl := client.New(d.URL(), "test-key")
	mustInstall(tb, cl, MustGotools(tb))
	path := filepath.Join(dir, "plugboard.db")
	db, err := store.Open(ctx, path)
	if err != nil {
		tb.Fatal(err)
	}
	db.HashCost = bcrypt.MinCost
	keys, err := secret.Open(ctx, dir, "", db)
	if err != nil {
		tb.Fatal(err)
	}
	sk, _ := guard.LoadSessionKeys(filepath.Join(dir, "session-keys"))
	// The app calls its daemon in process, as serve's embedded one; the
	// test's own calls (cl) go over HTTP.
	h := web.New(web.Config{Store: db, Keys: keys, Daemon: client.New(d.URL(), "test-key", client.InProcess(d.Handler(), d.Direct())), SessionKeys: sk, Logger: logger,
		MetricsToken: metricsToken, DaemonMetrics: d.Metrics().Gatherer()})
	srv := httptest.NewServer(h)
	tb.Cleanup(func() { srv.Close(); h.Close(); db.Close() })
	return &CredApp{App: &App{URL: srv.URL, Store: db}, Creds: db.Credentials(keys), Daemon: cl, Logs: logs, Path: path}
}

// mustInstall uploads and installs a package and waits for it.
func mustInstall(tb testing.TB, cl *client.Client, pkg []byte) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	up, err := cl.UploadPackage(ctx, "gotools.difypkg", bytes.NewReader(pkg))
	if err != nil {
		tb.Fatalf("upload: %v", err)
	}
	res, err := cl.Install(ctx, []string{up.UniqueIdentifier}, "package", nil)
	if err != nil {
		tb.Fatalf("install: %v", err)
	}
	if !res.AllInstalled {
		if _, err := cl.WaitTask(ctx, res.TaskID); err != nil {
			tb.Fatalf("install task: %v", err)
		}
	}
}
