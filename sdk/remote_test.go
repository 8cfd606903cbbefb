package sdk_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/plugboard/plugboard/sdk"
)

// pytoolsDir holds declarations the SDK can read (any plugin's yaml will do).
const pytoolsDir = "../examples/plugins/pytools"

// fakePort accepts one connection, records the lines it receives until
// "end", then answers with reply (when not empty) and closes.
func fakePort(tb testing.TB, reply string) (addr string, lines <-chan []string) {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ln.Close() })
	out := make(chan []string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		var got []string
		sc := bufio.NewScanner(c)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			got = append(got, sc.Text())
			if strings.Contains(sc.Text(), `"type":"end"`) {
				break
			}
		}
		out <- got
		if reply != "" {
			c.Write([]byte(reply + "\n"))
		}
	}()
	return ln.Addr().String(), out
}

func TestServeRemote(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		addr, lines := fakePort(t, "")
		err := sdk.New().ServeRemote(context.Background(), sdk.RemoteConfig{Addr: addr, Key: "k1", Dir: pytoolsDir})
		if err != nil {
			t.Fatalf("serve ended with %v, want nil when the daemon closes", err)
		}
		got := <-lines
		var types []string
		for _, l := range got {
			var m struct {
				Type string          `json:"type"`
				Data json.RawMessage `json:"data"`
			}
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatalf("line %q: %v", l, err)
			}
			types = append(types, m.Type)
		}
		want := "handshake manifest_declaration tool_declaration asset_chunk end"
		if strings.Join(types, " ") != want || !strings.Contains(got[0], `"key":"k1"`) {
			t.Fatalf("sent %v (first %s), want %s with the key", types, got[0], want)
		}
	})
	t.Run("OKModelDeclaration", func(t *testing.T) {
		addr, lines := fakePort(t, "")
		if err := sdk.New().ServeRemote(context.Background(), sdk.RemoteConfig{Addr: addr, Key: "k1", Dir: "../examples/plugins/demo_model"}); err != nil {
			t.Fatal(err)
		}
		var model []map[string]any
		for _, l := range <-lines {
			var m struct {
				Type string           `json:"type"`
				Data []map[string]any `json:"data"`
			}
			if json.Unmarshal([]byte(l), &m) == nil && m.Type == "model_declaration" {
				model = m.Data
			}
		}
		if len(model) != 1 || model[0]["provider"] != "demo_model" || len(model[0]["models"].([]any)) != 6 {
			t.Fatalf("model_declaration = %v", model)
		}
	})
	t.Run("ErrRefused", func(t *testing.T) {
		addr, _ := fakePort(t, "handshake failed, invalid key")
		err := sdk.New().ServeRemote(context.Background(), sdk.RemoteConfig{Addr: addr, Key: "bad", Dir: pytoolsDir})
		var refused *sdk.RefusedError
		if !errors.As(err, &refused) || refused.Reason != "handshake failed, invalid key" {
			t.Fatalf("err = %v, want the daemon's refusal", err)
		}
	})
	t.Run("ErrNoDeclarations", func(t *testing.T) {
		err := sdk.New().ServeRemote(context.Background(), sdk.RemoteConfig{Addr: "127.0.0.1:1", Key: "k", Dir: t.TempDir()})
		if err == nil || !strings.Contains(err.Error(), "manifest.yaml") {
			t.Fatalf("err = %v, want the missing manifest named", err)
		}
	})
}

func TestRunRemote(t *testing.T) {
	t.Run("ErrRefused", func(t *testing.T) {
		addr, _ := fakePort(t, "handshake failed, invalid key")
		err := sdk.New().RunRemote(context.Background(), sdk.RemoteConfig{Addr: addr, Key: "bad", Dir: pytoolsDir})
		var refused *sdk.RefusedError
		if !errors.As(err, &refused) {
			t.Fatalf("err = %v, want the refusal returned without retrying", err)
		}
	})
	t.Run("OKReconnects", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := make(chan error, 1)
		go func() {
			done <- sdk.New().RunRemote(ctx, sdk.RemoteConfig{Addr: ln.Addr().String(), Key: "k1", Dir: pytoolsDir})
		}()
		for i := range 2 { // the "daemon" drops the first connection; the plugin connects again
			ln.(*net.TCPListener).SetDeadline(time.Now().Add(30 * time.Second))
			c, err := ln.Accept()
			if err != nil {
				t.Fatalf("connection %d: %v", i+1, err)
			}
			line, _ := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if !strings.Contains(line, `"handshake"`) {
				t.Fatalf("connection %d began with %q, want a handshake", i+1, line)
			}
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("RunRemote after cancel: %v, want nil", err)
		}
	})
}

func TestRemoteConfigFromEnv(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		t.Setenv("INSTALL_METHOD", "remote")
		t.Setenv("REMOTE_INSTALL_HOST", "debug.example")
		t.Setenv("REMOTE_INSTALL_PORT", "5003")
		t.Setenv("REMOTE_INSTALL_KEY", "k")
		cfg, ok, err := sdk.RemoteConfigFromEnv()
		if !ok || err != nil || cfg.Addr != "debug.example:5003" || cfg.Key != "k" {
			t.Fatalf("%+v %v %v", cfg, ok, err)
		}
	})
	t.Run("OKURL", func(t *testing.T) {
		t.Setenv("INSTALL_METHOD", "remote")
		t.Setenv("REMOTE_INSTALL_URL", "localhost:5003")
		t.Setenv("REMOTE_INSTALL_KEY", "k")
		if cfg, _, err := sdk.RemoteConfigFromEnv(); err != nil || cfg.Addr != "localhost:5003" {
			t.Fatalf("%+v %v", cfg, err)
		}
	})
	t.Run("OKLocal", func(t *testing.T) {
		t.Setenv("INSTALL_METHOD", "local")
		if _, ok, err := sdk.RemoteConfigFromEnv(); ok || err != nil {
			t.Fatalf("local: ok %v err %v", ok, err)
		}
	})
	t.Run("ErrNoKey", func(t *testing.T) {
		t.Setenv("INSTALL_METHOD", "remote")
		t.Setenv("REMOTE_INSTALL_URL", "localhost:5003")
		t.Setenv("REMOTE_INSTALL_KEY", "")
		if _, _, err := sdk.RemoteConfigFromEnv(); err == nil || !strings.Contains(err.Error(), "REMOTE_INSTALL_KEY") {
			t.Fatalf("err = %v, want REMOTE_INSTALL_KEY named", err)
		}
	})
}
