package e2e_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/plugboard/plugboard/daemon/pkgfmt"
	"github.com/plugboard/plugboard/sdk/devkit"
)

// The models the chat benchmarks talk to.
const (
	stampChat = "plugboard/stampmodel|stampmodel|stamp"
	demoChat  = "plugboard/demo_model|demo_model|demo-chat"
)

// mustChatServer starts `plugboard serve` (embedded daemon, as `make run`)
// with the demo model and testdata/stampmodel offered as examples, signs
// the owner in and installs both.
func mustChatServer(b *testing.B) (*Server, *Browser) {
	b.Helper()
	skipWithoutChromium(b)
	dir := mustModelExamples(b)
	pkg, _, err := devkit.PackDir(context.Background(), "testdata/stampmodel", pkgfmt.DefaultLimits(), io.Discard)
	if err != nil {
		b.Fatalf("pack stampmodel: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "stampmodel.difypkg"), pkg, 0o644); err != nil {
		b.Fatal(err)
	}
	srv := MustServe(b, WithExamples(dir))
	br := MustBrowser(b, srv)
	br.CreateOwner()
	installExample(b, br, "plugboard/demo_model")
	installExample(b, br, "plugboard/stampmodel")
	return srv, br
}

// chatTurnJS runs one turn of the chat page as a user would (New chat,
// type, Send) and resolves, once the answer is done, with the time its
// text first showed in the DOM (performance.timeOrigin + performance.now(),
// Unix ms on the machine's clock, as the plugin's stamp; and Date.now())
// and that text, whose first token is the plugin's stamp in Unix µs. It
// runs in the page, so nothing polls the DOM while the answer streams.
const chatTurnJS = `waitMS => new Promise((resolve, reject) => {
	// The wall clock at a millisecond's edge against the page's monotonic
	// clock: their offset now, to the microsecond, whatever the machine's
	// clock did since the page loaded (stepped or slewed).
	const d0 = Date.now();
	let d = d0;
	while (d === d0) d = Date.now();
	const offset = d - (performance.timeOrigin + performance.now());
	const form = document.querySelector('form[data-model-chat]');
	form.querySelector('[data-chat-clear]').click();
	form.querySelector('[name="p_wait_ms"]').value = waitMS;
	const log = form.querySelector('[data-chat-log]');
	let first = null;
	const obs = new MutationObserver(() => {
		const a = log.querySelector('[data-role="assistant"] [data-testid="chat-text"]');
		if (!first && a && a.textContent) first = {at: performance.timeOrigin + performance.now() + offset, date: Date.now(), text: a.textContent};
		const st = a && a.parentNode.dataset.state;
		if (st && st !== "streaming") {
			obs.disconnect();
			st === "done" && first ? resolve(first) : reject(new Error("the answer ended " + st + ": " + a.textContent));
		}
	});
	obs.observe(log, {subtree: true, childList: true, characterData: true, attributes: true});
	form.querySelector('#chat-message').value = "stamp";
	form.querySelector('[data-chat-send]').click();
})`

// firstToken is what chatTurnJS resolves with.
type firstToken struct {
	At   float64 `json:"at"`
	Date float64 `json:"date"`
	Text string  `json:"text"`
}

// BenchmarkModelChatFirstTokenToDOM measures, in a real Chromium against
// `plugboard serve`, the time from the model plugin writing an answer's
// first token (testdata/stampmodel stamps it with the clock right before
// the write) to that token's text being in the model playground's DOM: the
// runtime, the daemon's stream, app/models.Chat, the chat's event stream
// and the page's script. The model writes its first token 50 ms after the
// request (a real model's time to first token is longer), when the page
// has drawn the turn it started; and, for the worst case, at once, while
// the page is still drawing it. 40 turns of each per run, interleaved; it
// reports the medians (goal: 5 ms), the 90th percentile, and, to tell the
// server's part from the browser's, the median time to a Go client reading
// the same /models/chat/stream over loopback (as many turns, in between).
func BenchmarkModelChatFirstTokenToDOM(b *testing.B) {
	const turns = 40
	srv, br := mustChatServer(b)
	s := mustChatSession(b, srv, br)
	br.Open("/models/chat?model="+url.QueryEscape(stampChat), "chat-form")
	if v := Eval[string](br, `document.querySelector('[data-testid="input-chat-model"]').value`); v != stampChat {
		b.Fatalf("the chat picked %q, not the stamp model", v)
	}
	var waited, immediate, client []float64
	turn := func(waitMS int) float64 {
		f := Eval[firstToken](br, "("+chatTurnJS+")("+strconv.Itoa(waitMS)+")")
		var stamp int64
		if _, err := fmt.Sscanf(f.Text, "%d", &stamp); err != nil || stamp == 0 {
			b.Fatalf("the first token %q is not the plugin's stamp", f.Text)
		}
		ms := f.At - float64(stamp)/1e3
		if ms < -1 || f.Date-float64(stamp)/1e3 < -2 {
			b.Fatalf("a token reached the DOM %.2f ms before the plugin wrote it (by Date.now %.0f ms): the clocks disagree",
				-ms, float64(stamp)/1e3-f.Date)
		}
		return ms
	}
	b.ResetTimer()
	for range b.N {
		for range turns {
			ms, err := s.firstTokenToClient()
			if err != nil {
				b.Fatal(err)
			}
			client = append(client, ms)
			waited = append(waited, turn(50))
			immediate = append(immediate, turn(0))
		}
	}
	b.StopTimer()
	for _, m := range []struct {
		name string
		ms   []float64
	}{{"dom", waited}, {"dom-at-once", immediate}, {"client", client}} {
		slices.Sort(m.ms)
		n := len(m.ms)
		b.Logf("first token → %s over %d turns: min %.2f, median %.2f, p90 %.2f, max %.2f ms",
			m.name, n, m.ms[0], m.ms[n/2], m.ms[n*9/10], m.ms[n-1])
		b.ReportMetric(m.ms[n/2], "ms-first-token-to-"+m.name+"-median")
		if m.name == "dom" {
			b.ReportMetric(m.ms[n*9/10], "ms-first-token-to-dom-p90")
		}
	}
}

// chatSession is a signed-in user's cookies and CSRF token, to post chat
// turns as the page does.
type chatSession struct {
	url, token string
	cookies    []*http.Cookie
}

// mustChatSession reads the browser's cookies and the chat form's CSRF token.
func mustChatSession(b *testing.B, srv *Server, br *Browser) chatSession {
	b.Helper()
	br.Open("/models/chat", "chat-form")
	s := chatSession{url: srv.URL, token: Eval[string](br, `document.querySelector('form[data-model-chat] input[name="_csrf"]').value`)}
	ctx, cancel := context.WithTimeout(br.ctx, step)
	defer cancel()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{srv.URL}})
	if err != nil {
		b.Fatalf("read the cookies: %v", err)
	}
	for _, c := range res.Cookies {
		s.cookies = append(s.cookies, &http.Cookie{Name: c.Name, Value: c.Value})
	}
	return s
}

// firstTokenToClient chats with the stamp model and returns the time from
// the plugin's stamp to this client reading the first text event.
func (s chatSession) firstTokenToClient() (float64, error) {
	resp, err := s.post(stampChat, "stamp", url.Values{"p_wait_ms": {"50"}})
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if sc.Text() != "event: text" || !sc.Scan() {
			continue
		}
		now := time.Now()
		var stamp int64
		if _, err := fmt.Sscanf(sc.Text(), `data: "%d`, &stamp); err != nil {
			return 0, fmt.Errorf("the first token %q is not the plugin's stamp", sc.Text())
		}
		return float64(now.Sub(time.UnixMicro(stamp)).Microseconds()) / 1e3, nil
	}
	return 0, fmt.Errorf("the stream ended without text: %v", sc.Err())
}

// chatClient has room for every concurrent stream.
var chatClient = &http.Client{Transport: &http.Transport{MaxIdleConns: 512, MaxIdleConnsPerHost: 512}}

// chatTurn is one streamed answer as the client saw it.
type chatTurn struct {
	texts       int
	first, done time.Time
}

// post posts one turn to /models/chat/stream as the page does and returns
// the response once it is an event stream.
func (s chatSession) post(model, message string, params url.Values) (*http.Response, error) {
	form := url.Values{"model": {model}, "turns": {`[{"role":"user","text":` + strconv.Quote(message) + `}]`}}
	for k, v := range params {
		form[k] = v
	}
	req, err := http.NewRequest(http.MethodPost, s.url+"/models/chat/stream", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-CSRF-Token", s.token)
	for _, c := range s.cookies {
		req.AddCookie(c)
	}
	resp, err := chatClient.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return nil, fmt.Errorf("HTTP %d: %.300s", resp.StatusCode, body)
	}
	return resp, nil
}

// chat posts one turn and reads its events to the end: it fails unless the
// answer ends with done, with no error event.
func (s chatSession) chat(model, message string, params url.Values) (chatTurn, error) {
	resp, err := s.post(model, message, params)
	if err != nil {
		return chatTurn{}, err
	}
	defer resp.Body.Close()
	var t chatTurn
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		switch line := sc.Text(); {
		case line == "event: text":
			if t.texts++; t.texts == 1 {
				t.first = time.Now()
			}
		case line == "event: done":
			t.done = time.Now()
		case line == "event: error":
			sc.Scan()
			return t, fmt.Errorf("error event: %s", sc.Text())
		}
	}
	if err := sc.Err(); err != nil {
		return t, err
	}
	if t.done.IsZero() || t.texts == 0 {
		return t, fmt.Errorf("the stream ended after %d text events without done", t.texts)
	}
	return t, nil
}

// BenchmarkModelChatConcurrent opens 200 chat streams at once through the
// app's /models/chat/stream (session, CSRF, app/models.Chat, the embedded
// daemon, the demo model), as 200 browser tabs would: first with a pause of
// 500 ms between the demo's chunks, so every stream is open at the same
// time (checked: each had its first piece before any ended), then 200
// callers chatting back to back with no pause, 1,000 chats in all, for the
// throughput. Any failed request or error event fails the benchmark.
func BenchmarkModelChatConcurrent(b *testing.B) {
	const conc, total = 200, 1000
	srv, br := mustChatServer(b)
	s := mustChatSession(b, srv, br)
	if _, err := s.chat(demoChat, "warm up", url.Values{"p_delay_ms": {"0"}}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		// Held: all 200 open together.
		turns := make([]chatTurn, conc)
		errs := make([]error, conc)
		var wg sync.WaitGroup
		for i := range conc {
			wg.Add(1)
			go func() {
				defer wg.Done()
				turns[i], errs[i] = s.chat(demoChat, fmt.Sprintf("hold stream %d", i), url.Values{"p_delay_ms": {"500"}})
			}()
		}
		wg.Wait()
		if err := errorsIn(errs); err != nil {
			b.Fatal(err)
		}
		lastFirst, firstDone := turns[0].first, turns[0].done
		for _, t := range turns {
			if t.first.After(lastFirst) {
				lastFirst = t.first
			}
			if t.done.Before(firstDone) {
				firstDone = t.done
			}
		}
		if !lastFirst.Before(firstDone) {
			b.Fatalf("the streams were not all open at once: the last first piece came %s after the first end", lastFirst.Sub(firstDone))
		}

		// Back to back: 200 callers, no pause.
		work := make(chan int, total)
		for i := range total {
			work <- i
		}
		close(work)
		errs = make([]error, total)
		texts := make([]int, total)
		start := time.Now()
		for range conc {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range work {
					var t chatTurn
					t, errs[i] = s.chat(demoChat, fmt.Sprintf("chat %d", i), url.Values{"p_delay_ms": {"0"}})
					texts[i] = t.texts
				}
			}()
		}
		wg.Wait()
		elapsed := time.Since(start)
		if err := errorsIn(errs); err != nil {
			b.Fatal(err)
		}
		n := 0
		for _, t := range texts {
			n += t
		}
		b.ReportMetric(float64(total)/elapsed.Seconds(), "chats/s")
		b.ReportMetric(float64(n)/elapsed.Seconds(), "text-events/s")
	}
}

// errorsIn counts the failed streams and returns the first failure.
func errorsIn(errs []error) error {
	var first error
	failed := 0
	for _, err := range errs {
		if err != nil {
			failed++
			if first == nil {
				first = err
			}
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d chat streams failed; the first: %v", failed, len(errs), first)
	}
	return nil
}
