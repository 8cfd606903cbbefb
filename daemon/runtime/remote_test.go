package runtime_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/protocol"
	"github.com/plugboard/plugboard/daemon/runtime"
)

// MustTCPPair returns the two ends of a real TCP connection: the daemon's
// (accepted) and the plugin's (dialled).
func MustTCPPair(tb testing.TB) (daemonEnd, pluginEnd net.Conn) {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	pluginEnd, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		tb.Fatal(err)
	}
	daemonEnd, err = ln.Accept()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { daemonEnd.Close(); pluginEnd.Close() })
	return daemonEnd, pluginEnd
}

// echoPeer plays a remote plugin: it answers every request with its tool
// parameter "text" as one text chunk, unless silent.
func echoPeer(c net.Conn, silent bool) {
	c.Write([]byte(`{"event":"heartbeat","session_id":null,"data":{}}` + "\n"))
	sc := bufio.NewScanner(c)
	for sc.Scan() {
		var req protocol.Request
		if json.Unmarshal(sc.Bytes(), &req) != nil || req.Event != protocol.EventRequest || silent {
			continue
		}
		text, _ := req.Data.ToolParameters["text"].(string)
		chunk, _ := json.Marshal(map[string]any{"type": "text", "message": map[string]string{"text": text}})
		c.Write([]byte(`{"event":"session","session_id":"` + req.SessionID + `","data":{"type":"stream","data":` + string(chunk) + "}}\n"))
		c.Write([]byte(`{"event":"session","session_id":"` + req.SessionID + `","data":{"type":"end","data":{}}}` + "\n"))
	}
}

func echoRequest(text string) *protocol.RequestData {
	return &protocol.RequestData{Type: "tool", Action: protocol.ActionInvokeTool, Provider: "p", Tool: "echo",
		ToolParameters: map[string]any{"text": text}}
}

func TestAttach(t *testing.T) {
	const key = "acme/remote:0.0.1@0123456789abcdef0123456789abcdef"
	t.Run("OK", func(t *testing.T) {
		m := MustManager(t, runtime.Config{})
		d, p := MustTCPPair(t)
		go echoPeer(p, false)
		if _, err := m.Attach(key, "acme/remote", d, d, d); err != nil {
			t.Fatal(err)
		}
		st, ok := m.Status(key)
		if !ok || st.State != apispec.StateRunning || st.PID != 0 || st.StartedAt.IsZero() {
			t.Fatalf("status %+v %v, want running with no pid", st, ok)
		}
		s, err := m.Invoke(context.Background(), key, echoRequest("hello"))
		if err != nil {
			t.Fatal(err)
		}
		msg, err := s.Recv()
		if err != nil || !strings.Contains(string(msg), `"hello"`) {
			t.Fatalf("recv %s, %v", msg, err)
		}
		if _, err := s.Recv(); err != io.EOF {
			t.Fatalf("end: %v, want io.EOF", err)
		}
	})
	t.Run("ErrDisconnected", func(t *testing.T) {
		m := MustManager(t, runtime.Config{})
		d, p := MustTCPPair(t)
		go echoPeer(p, true)
		rem, err := m.Attach(key, "acme/remote", d, d, d)
		if err != nil {
			t.Fatal(err)
		}
		s, err := m.Invoke(context.Background(), key, echoRequest("hello"))
		if err != nil {
			t.Fatal(err)
		}
		p.Close()
		_, err = s.Recv()
		if plugboard.ErrorCode(err) != plugboard.EUNAVAILABLE || !strings.Contains(err.Error(), "disconnected") {
			t.Fatalf("in-flight recv: %v, want unavailable: disconnected", err)
		}
		select {
		case <-rem.Done():
		case <-time.After(patience):
			t.Fatal("Done not closed after the disconnect")
		}
		if _, ok := m.Status(key); ok {
			t.Fatal("a disconnected remote plugin is still known to the runtime")
		}
		if _, err := m.Invoke(context.Background(), key, echoRequest("x")); plugboard.ErrorCode(err) != plugboard.ENOTFOUND {
			t.Fatalf("invoke after disconnect: %v, want not found", err)
		}
	})
	t.Run("Stop", func(t *testing.T) {
		m := MustManager(t, runtime.Config{})
		d, p := MustTCPPair(t)
		go echoPeer(p, true)
		rem, err := m.Attach(key, "acme/remote", d, d, d)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Stop(key); err != nil {
			t.Fatal(err)
		}
		<-rem.Done()
		// Closed is what counts: EOF, or a reset when the daemon closed its
		// end with the plugin's heartbeat still unread. A connection left
		// open runs into the deadline and fails.
		p.SetReadDeadline(time.Now().Add(patience))
		if _, err := io.ReadAll(p); err != nil && !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("plugin end after Stop: %v, want the connection closed", err)
		}
	})
	t.Run("ErrConflict", func(t *testing.T) {
		m := MustManager(t, runtime.Config{})
		d, p := MustTCPPair(t)
		go echoPeer(p, true)
		if _, err := m.Attach(key, "acme/remote", d, d, d); err != nil {
			t.Fatal(err)
		}
		d2, _ := MustTCPPair(t)
		if _, err := m.Attach(key, "acme/remote", d2, d2, d2); plugboard.ErrorCode(err) != plugboard.ECONFLICT {
			t.Fatalf("second attach: %v, want conflict", err)
		}
	})
}
