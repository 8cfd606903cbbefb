package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/plugboard/plugboard/daemon"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/callback"
	"github.com/plugboard/plugboard/daemon/manager"
	"github.com/plugboard/plugboard/daemon/pkgfmt"
	"github.com/plugboard/plugboard/daemon/runtime"
)

type daemonCmd struct {
	Addr      string `default:"127.0.0.1:5002" env:"PLUGBOARD_DAEMON_ADDR" help:"Address of the HTTP API."`
	DebugAddr string `default:"127.0.0.1:5003" env:"PLUGBOARD_DEBUG_ADDR" help:"Address of the remote debugging port plugins connect to with INSTALL_METHOD=remote (empty disables it)."`
	Data      string `type:"path" default:"./data/daemon" env:"PLUGBOARD_DATA" help:"Directory for the daemon's state and packages."`
	APIKey    string `env:"PLUGBOARD_API_KEY" help:"Key clients send as X-Api-Key (default: generated once and kept in DATA/api-key). Prefer the environment variable or --api-key-file: arguments show in the process list."`
	Debug     bool   `env:"PLUGBOARD_DEBUG" help:"Log at debug level."`

	APIKeyFile    string        `name:"api-key-file" env:"PLUGBOARD_API_KEY_FILE" help:"File holding the key clients send as X-Api-Key, instead of --api-key."`
	InvokeTimeout time.Duration `default:"600s" env:"PLUGBOARD_INVOKE_TIMEOUT" help:"Default limit of one tool invocation (admins can set one per plugin)."`
	LogFormat     string        `default:"text" enum:"text,json" env:"PLUGBOARD_LOG_FORMAT" help:"Log format: text, or json (one JSON object per line)."`
	pythonFlags   `embed:""`
	callBackFlags `embed:""`
}

// callBackFlags configure how plugins' calls back into the platform are
// answered: where the platform's inner API is, and the bounds.
type callBackFlags struct {
	PlatformURL     string        `name:"platform-url" env:"PLUGBOARD_PLATFORM_URL,DIFY_INNER_API_URL" help:"Base URL of the platform (Plugboard's app, or Dify's API) whose inner API answers plugins' calls back (models, tools, uploads); storage is answered by the daemon. Empty: those calls back get an error."`
	PlatformKey     string        `name:"platform-key" env:"PLUGBOARD_PLATFORM_KEY,DIFY_INNER_API_KEY" help:"Key sent to the platform's inner API as X-Inner-Api-Key (the app's --inner-api-key). Prefer the environment variable or --platform-key-file."`
	PlatformKeyFile string        `name:"platform-key-file" env:"PLUGBOARD_PLATFORM_KEY_FILE" help:"File holding the platform's key, instead of --platform-key."`
	CallBackTimeout time.Duration `name:"call-back-timeout" default:"5m" env:"PLUGBOARD_CALL_BACK_TIMEOUT" help:"Limit of one call back of a plugin into the platform."`
	CallBackRate    float64       `name:"call-back-rate" default:"20" env:"PLUGBOARD_CALL_BACK_RATE" help:"Calls back a plugin may make per second (on average)."`
	CallBackBurst   int           `name:"call-back-burst" default:"40" env:"PLUGBOARD_CALL_BACK_BURST" help:"Calls back a plugin may make at once above the rate."`
	StorageMax      int64         `name:"storage-max" default:"104857600" env:"PLUGBOARD_STORAGE_MAX" help:"Most bytes a plugin may keep in its storage per workspace, whatever its manifest asks (Dify's PERSISTENCE_STORAGE_MAX_SIZE)."`
}

// config checks the flags and returns the call back configuration.
func (f callBackFlags) config() (callback.Config, error) {
	key, err := keyFromFlags("--platform-key", f.PlatformKey, f.PlatformKeyFile)
	if err != nil {
		return callback.Config{}, err
	}
	if f.PlatformURL != "" {
		u, err := url.Parse(f.PlatformURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return callback.Config{}, fmt.Errorf("--platform-url %q: want an http or https URL like http://127.0.0.1:8080", f.PlatformURL)
		}
		if key == "" {
			return callback.Config{}, errors.New("--platform-url needs --platform-key (or PLUGBOARD_PLATFORM_KEY)")
		}
	}
	switch {
	case f.CallBackTimeout <= 0:
		return callback.Config{}, fmt.Errorf("--call-back-timeout %s: want a duration above 0", f.CallBackTimeout)
	case f.CallBackRate <= 0 || f.CallBackBurst <= 0:
		return callback.Config{}, errors.New("--call-back-rate and --call-back-burst must be above 0")
	case f.StorageMax < 1024:
		return callback.Config{}, fmt.Errorf("--storage-max %d: want at least 1024 bytes", f.StorageMax)
	}
	return callback.Config{PlatformURL: f.PlatformURL, PlatformKey: key, Timeout: f.CallBackTimeout,
		Rate: f.CallBackRate, Burst: f.CallBackBurst, MaxStorage: f.StorageMax}, nil
}

func (c *daemonCmd) Run(ctx context.Context) error {
	logger := newLogger(c.Debug, c.LogFormat)
	py, err := c.options()
	if err != nil {
		return err
	}
	if err := checkInvokeTimeout(c.InvokeTimeout); err != nil {
		return err
	}
	calls, err := c.callBackFlags.config()
	if err != nil {
		return err
	}
	configured, err := keyFromFlags("--api-key", c.APIKey, c.APIKeyFile)
	if err != nil {
		return err
	}
	key, err := apiKey(configured, c.Data)
	if err != nil {
		return err
	}
	d, err := daemon.Start(ctx, daemon.Config{
		Addr:      c.Addr,
		DebugAddr: c.DebugAddr,
		APIKey:    key,
		Logger:    logger,
		Manager: manager.Config{DataDir: c.Data, Limits: pkgfmt.DefaultLimits(), Runner: py,
			Runtime: runtime.Config{InvokeTimeout: c.InvokeTimeout}, CallBacks: calls},
	})
	if err != nil {
		return err
	}
	fmt.Printf("Plugboard daemon listening on %s (data in %s)\n", d.URL(), c.Data)
	if addr := d.DebugAddr(); addr != "" {
		fmt.Printf("Remote debugging on %s\n", addr)
	}
	if configured == "" {
		fmt.Printf("API key: in %s\n", filepath.Join(c.Data, "api-key"))
	}
	if calls.PlatformURL == "" {
		fmt.Println("Calls back into the platform: not configured (--platform-url); plugins get storage only")
	} else {
		fmt.Printf("Calls back into the platform: %s\n", calls.PlatformURL)
	}
	select {
	case <-ctx.Done():
	case err = <-d.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return errors.Join(err, d.Close(shutdown))
}

// checkInvokeTimeout refuses a --invoke-timeout outside (0, 24h].
func checkInvokeTimeout(d time.Duration) error {
	if d <= 0 || d > time.Duration(apispec.MaxInvokeTimeoutSeconds)*time.Second {
		return fmt.Errorf("--invoke-timeout %s: want a duration above 0 and at most 24h", d)
	}
	return nil
}

// keyFromFlags returns the key given as the flag name (value) or on the
// first line of the file named by its -file twin; giving both, or a file
// whose first line is empty, is an error.
func keyFromFlags(name, value, file string) (string, error) {
	if file == "" {
		return value, nil
	}
	if value != "" {
		return "", fmt.Errorf("give %s or %s-file, not both", name, name)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("%s-file: %w", name, err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	key := strings.TrimSpace(line)
	if key == "" {
		return "", fmt.Errorf("%s-file: %s is empty", name, file)
	}
	return key, nil
}

// apiKey returns the configured key, or the one kept in DATA/api-key
// (created with mode 0600 on first start).
func apiKey(configured, dataDir string) (string, error) {
	if configured != "" {
		return configured, nil
	}
	path := filepath.Join(dataDir, "api-key")
	if b, err := os.ReadFile(path); err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	buf := make([]byte, 24)
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	key := hex.EncodeToString(buf)
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return "", err
	}
	return key, os.WriteFile(path, []byte(key+"\n"), 0o600)
}

// newLogger logs to stderr at info level (debug when asked) in format
// "text" or "json" (slog's JSON handler: one object per line).
func newLogger(debug bool, format string) *slog.Logger {
	opts := &slog.HandlerOptions{Level: slog.LevelInfo}
	if debug {
		opts.Level = slog.LevelDebug
	}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

// newQuietLogger logs only warnings unless verbose.
func newQuietLogger(verbose bool) *slog.Logger {
	level := slog.LevelWarn
	if verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}
