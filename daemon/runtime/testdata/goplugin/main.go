// Command goplugin is a minimal Go plugin for the runtime's tests and
// benchmarks: it answers every request on the reader goroutine with one text
// chunk echoing tool_parameters.text (or tool_parameters.n of them), then an
// end.
package main

import (
	"bufio"
	"encoding/json"
	"os"
	"strconv"
	"sync"
	"time"
)

type request struct {
	SessionID string `json:"session_id"`
	Event     string `json:"event"`
	Data      struct {
		Tool           string         `json:"tool"`
		ToolParameters map[string]any `json:"tool_parameters"`
	} `json:"data"`
}

func main() {
	out := bufio.NewWriterSize(os.Stdout, 64<<10)
	var mu sync.Mutex
	write := func(b []byte, flush bool) {
		mu.Lock()
		out.Write(b)
		if flush {
			out.Flush()
		}
		mu.Unlock()
	}
	interval := time.Second
	if ms, err := strconv.Atoi(os.Getenv("HEARTBEAT_MS")); err == nil {
		interval = time.Duration(ms) * time.Millisecond
	}
	go func() {
		for {
			write([]byte(`{"event":"heartbeat","data":{}}`+"\n"), true)
			time.Sleep(interval)
		}
	}()
	in := bufio.NewReaderSize(os.Stdin, 64<<10)
	for {
		line, err := in.ReadSlice('\n')
		if err != nil {
			return
		}
		var req request
		if json.Unmarshal(line, &req) != nil || req.Event != "request" {
			continue
		}
		text, _ := req.Data.ToolParameters["text"].(string)
		n, _ := req.Data.ToolParameters["n"].(float64)
		msg, _ := json.Marshal(text)
		sid := strconv.Quote(req.SessionID)
		chunk := `{"event":"session","session_id":` + sid + `,"data":{"type":"stream","data":{"type":"text","message":{"text":` + string(msg) + `},"meta":null}}}` + "\n"
		var b []byte
		for range max(int(n), 1) {
			b = append(b, chunk...)
		}
		b = append(b, `{"event":"session","session_id":`+sid+`,"data":{"type":"end","data":{}}}`+"\n"...)
		write(b, in.Buffered() == 0)
	}
}
