// Command goplugin is a minimal Go plugin for the runtime's tests and
// benchmarks: it answers every request on the reader goroutine with one text
// chunk echoing tool_parameters.text, then an end.
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
	go func() {
		for {
			write([]byte(`{"event":"heartbeat","data":{}}`+"\n"), true)
			time.Sleep(time.Second)
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
		msg, _ := json.Marshal(text)
		sid := strconv.Quote(req.SessionID)
		b := []byte(`{"event":"session","session_id":` + sid + `,"data":{"type":"stream","data":{"type":"text","message":{"text":` + string(msg) + `},"meta":null}}}` + "\n" +
			`{"event":"session","session_id":` + sid + `,"data":{"type":"end","data":{}}}` + "\n")
		write(b, in.Buffered() == 0)
	}
}
