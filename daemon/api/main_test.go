package api_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	goruntime "runtime"
	"sync"
	"testing"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/plugboard/plugboard/daemon/api"
	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/daemon/manager"
	"github.com/plugboard/plugboard/daemon/pkgfmt"
)

const (
	testKey  = "test-api-key-0123456789"
	gotoolID = "plugboard/gotools"
)

// work is the scratch directory of this test binary (packages, data dirs).
var work string

func TestMain(m *testing.M) {
	if dir := os.Getenv(childDaemonEnv); dir != "" {
		os.Exit(serveChild(dir))
	}
	if os.Getenv(childModelRefEnv) != "" {
		os.Exit(serveModelReference())
	}
	var err error
	if work, err = os.MkdirTemp("", "plugboard-api-test-"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	closeShared()
	closeReference()
	os.RemoveAll(work)
	os.Exit(code)
}

// childDaemonEnv makes the test binary serve a daemon on the data dir it
// names, print its URL and exit when stdin closes (for BenchmarkIdleRSS, so
// that the measured process holds the daemon and not the benchmarks).
const childDaemonEnv = "PLUGBOARD_API_CHILD_DAEMON"

func serveChild(dir string) int {
	d, err := startDaemon(dir, api.Config{APIKey: testKey})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer d.close()
	fmt.Println(d.srv.URL)
	_, _ = io.Copy(io.Discard, os.Stdin)
	return 0
}

// repoRoot is the module root, relative to this package.
const repoRoot = "../.."

// plugin builds (once per name) a package of examples/plugins/gotools, renamed
// to name, and returns its bytes.
func plugin(tb testing.TB, name string) []byte {
	tb.Helper()
	pkgMu.Lock()
	defer pkgMu.Unlock()
	if data, ok := pkgCache[name]; ok {
		return data
	}
	data, err := buildGotools(name)
	if err != nil {
		tb.Fatalf("build %s package: %v", name, err)
	}
	pkgCache[name] = data
	return data
}

var (
	pkgMu    sync.Mutex
	pkgCache = map[string][]byte{}
	binOnce  sync.Once
	binPath  string
	binErr   error
)

// buildGotools copies the plugin's source, renames it, adds the binary for
// this host's arch and packs it.
func buildGotools(name string) ([]byte, error) {
	src := filepath.Join(repoRoot, "examples", "plugins", "gotools")
	dir := filepath.Join(work, "src-"+name)
	if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
		return nil, err
	}
	entry, err := renameManifest(filepath.Join(dir, "manifest.yaml"), name)
	if err != nil {
		return nil, err
	}
	bin, err := gotoolsBinary(entry)
	if err != nil {
		return nil, err
	}
	dst := filepath.Join(dir, "bin", goruntime.GOARCH, entry)
	if err := copyFile(bin, dst); err != nil {
		return nil, err
	}
	data, _, err := pkgfmt.Pack(os.DirFS(dir), pkgfmt.DefaultLimits())
	return data, err
}

// renameManifest sets the manifest's top-level name and returns the runner's entrypoint.
func renameManifest(path, name string) (string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	var m struct {
		Meta struct {
			Runner struct {
				Entrypoint string `yaml:"entrypoint"`
			} `yaml:"runner"`
		} `yaml:"meta"`
	}
	if err := yaml.Unmarshal(raw, &m); err != nil {
		return "", err
	}
	if m.Meta.Runner.Entrypoint == "" {
		return "", errors.New("manifest has no meta.runner.entrypoint")
	}
	raw = regexp.MustCompile(`(?m)^name:.*$`).ReplaceAll(raw, []byte("name: "+name))
	return m.Meta.Runner.Entrypoint, os.WriteFile(path, raw, 0o644)
}

// gotoolsBinary builds the plugin's executable once.
func gotoolsBinary(entry string) (string, error) {
	binOnce.Do(func() {
		binPath = filepath.Join(work, "bin", entry)
		cmd := exec.Command("go", "build", "-o", binPath, "./examples/plugins/gotools")
		cmd.Dir = repoRoot
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	return binPath, binErr
}

func copyFile(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return os.WriteFile(dst, data, fs.FileMode(0o755))
}

// daemon is a real manager behind the real API on a loopback HTTP server.
type daemon struct {
	m   *manager.Manager
	srv *httptest.Server
	c   *client.Client
	dir string
}

// MustDaemon starts a daemon on a fresh data directory; it stops at the test's end.
func MustDaemon(tb testing.TB) *daemon {
	tb.Helper()
	d, err := startDaemon(tb.TempDir(), api.Config{APIKey: testKey})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(d.close)
	return d
}

func startDaemon(dir string, cfg api.Config) (*daemon, error) {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	m, err := manager.Open(context.Background(), manager.Config{DataDir: dir, Limits: pkgfmt.DefaultLimits(), Logger: log})
	if err != nil {
		return nil, err
	}
	cfg.Logger = log
	srv := httptest.NewServer(api.New(cfg, m))
	return &daemon{m: m, srv: srv, c: client.New(srv.URL, testKey), dir: dir}, nil
}

func (d *daemon) close() {
	d.srv.Close()
	d.m.Close()
}

// MustInstall uploads and installs a package and waits for its task.
func (d *daemon) MustInstall(tb testing.TB, data []byte) string {
	tb.Helper()
	uid, err := d.install(data)
	if err != nil {
		tb.Fatal(err)
	}
	return uid
}

func (d *daemon) install(data []byte) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	up, err := d.c.UploadPackage(ctx, "plugin.difypkg", bytes.NewReader(data))
	if err != nil {
		return "", fmt.Errorf("upload: %w", err)
	}
	res, err := d.c.Install(ctx, []string{up.UniqueIdentifier}, "package", nil)
	if err != nil {
		return "", fmt.Errorf("install: %w", err)
	}
	if !res.AllInstalled {
		if _, err := d.c.WaitTask(ctx, res.TaskID); err != nil {
			return "", fmt.Errorf("install task: %w", err)
		}
	}
	return up.UniqueIdentifier, nil
}

// shared is one daemon with gotools installed, for tests that do not change state.
var shared struct {
	once sync.Once
	d    *daemon
	uid  string
	err  error
}

// MustShared returns the shared daemon and the installed gotools identifier.
func MustShared(tb testing.TB) (*daemon, string) {
	tb.Helper()
	data := plugin(tb, "gotools")
	shared.once.Do(func() {
		shared.d, shared.err = startDaemon(filepath.Join(work, "shared"), api.Config{APIKey: testKey})
		if shared.err == nil {
			shared.uid, shared.err = shared.d.install(data)
		}
	})
	if shared.err != nil {
		tb.Fatal(shared.err)
	}
	return shared.d, shared.uid
}

func closeShared() {
	if shared.d != nil {
		shared.d.close()
	}
	if pytools.d != nil {
		pytools.d.close()
	}
	if pymodel.d != nil {
		pymodel.d.close()
	}
}

// drain reads a stream to its end.
func drain(s *client.ToolStream) ([]*client.Message, error) {
	var msgs []*client.Message
	for {
		m, err := s.Next()
		if errors.Is(err, io.EOF) {
			return msgs, nil
		}
		if err != nil {
			return msgs, err
		}
		msgs = append(msgs, m)
	}
}
