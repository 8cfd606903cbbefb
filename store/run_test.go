package store_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/store"
)

// MustCreateRun starts a run for user or fails the test.
func MustCreateRun(tb testing.TB, db *store.DB, userID int64) *store.Run {
	tb.Helper()
	r := &store.Run{UserID: userID, Username: "u", PluginID: "plugboard/gotools", Provider: "gotools", Tool: "stream_text",
		Params: map[string]any{"text": "hi", "token": "[redacted]"}}
	if err := db.CreateRun(context.Background(), r); err != nil {
		tb.Fatal(err)
	}
	return r
}

func TestRuns(t *testing.T) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		db, now := MustOpen(t)
		start := *now
		r := MustCreateRun(t, db, 1)
		*now = start.Add(10 * time.Millisecond) // a call back is not the first message
		if err := db.AppendRunEvent(ctx, &store.RunEvent{RunID: r.ID, Type: store.RunEventCallBack, Payload: json.RawMessage(`{"call_back":{"type":"llm"}}`)}); err != nil {
			t.Fatal(err)
		}
		*now = start.Add(40 * time.Millisecond)
		for _, text := range []string{"a ", "b"} {
			payload, _ := json.Marshal(map[string]string{"text": text})
			if err := db.AppendRunEvent(ctx, &store.RunEvent{RunID: r.ID, Type: "text", Payload: payload}); err != nil {
				t.Fatal(err)
			}
		}
		blob := &store.RunEvent{RunID: r.ID, Type: "blob", Payload: json.RawMessage(`{"mime":"image/png"}`), Blob: []byte("PNG")}
		if err := db.AppendRunEvent(ctx, blob); err != nil || blob.Seq != 4 {
			t.Fatalf("blob seq %d, err %v", blob.Seq, err)
		}
		*now = start.Add(time.Second)
		if err := db.FinishRun(ctx, r.ID, store.RunDone, ""); err != nil {
			t.Fatal(err)
		}
		if err := db.FinishRun(ctx, r.ID, store.RunCancelled, ""); err != nil {
			t.Fatal(err)
		}
		got, err := db.FindRun(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != store.RunDone || got.Messages != 4 || got.FirstAt.Sub(got.CreatedAt) != 40*time.Millisecond ||
			got.EndedAt.Sub(got.CreatedAt) != time.Second || got.Params["token"] != "[redacted]" {
			t.Fatalf("run %+v", got)
		}
		evs, err := db.RunEvents(ctx, r.ID, 2)
		if err != nil || len(evs) != 2 || evs[0].Seq != 3 || evs[1].Type != "blob" {
			t.Fatalf("events after 2: %+v %v", evs, err)
		}
		ev, err := db.RunEvent(ctx, r.ID, 4)
		if err != nil || string(ev.Blob) != "PNG" {
			t.Fatalf("blob event %+v %v", ev, err)
		}
	})
	t.Run("OKFilterByUser", func(t *testing.T) {
		db, _ := MustOpen(t)
		MustCreateRun(t, db, 1)
		MustCreateRun(t, db, 2)
		mine, n, err := db.FindRuns(ctx, store.RunFilter{UserID: 2})
		if err != nil || len(mine) != 1 || n != 1 || mine[0].UserID != 2 {
			t.Fatalf("user 2's runs %+v (%d) %v", mine, n, err)
		}
		all, n, err := db.FindRuns(ctx, store.RunFilter{})
		if err != nil || len(all) != 2 || n != 2 {
			t.Fatalf("all runs %d of %d %v", len(all), n, err)
		}
	})
	t.Run("OKFilterSearchPage", func(t *testing.T) {
		db, now := MustOpen(t)
		start := *now
		for i, tool := range []string{"stream_text", "render_png", "stream_text", "json_echo", "stream_text"} {
			*now = start.Add(time.Duration(i) * time.Second)
			r := &store.Run{UserID: int64(1 + i%2), Username: []string{"ann", "bob"}[i%2], PluginID: "plugboard/gotools",
				Provider: "gotools", Tool: tool, Params: map[string]any{"text": "word " + strconv.Itoa(i) + " 100%"}}
			if err := db.CreateRun(ctx, r); err != nil {
				t.Fatal(err)
			}
			if i == 2 {
				db.FinishRun(ctx, r.ID, store.RunFailed, "boom")
			}
		}
		for name, c := range map[string]struct {
			f     store.RunFilter
			total int
			first string
		}{
			"tool":          {store.RunFilter{Tool: "plugboard/gotools:gotools:stream_text"}, 3, "word 4"},
			"status":        {store.RunFilter{Status: store.RunFailed}, 1, "word 2"},
			"user":          {store.RunFilter{UserID: 2}, 2, "word 3"},
			"query":         {store.RunFilter{Query: "word 1"}, 1, "word 1"},
			"query error":   {store.RunFilter{Query: "BOOM"}, 1, "word 2"},
			"query literal": {store.RunFilter{Query: "4 100%"}, 1, "word 4"},
			"no wildcard":   {store.RunFilter{Query: "d%1"}, 0, ""},
			"page":          {store.RunFilter{Offset: 2, Limit: 2}, 5, "word 2"},
			"combined":      {store.RunFilter{UserID: 1, Tool: "plugboard/gotools:gotools:stream_text", Status: store.RunRunning}, 2, "word 4"},
		} {
			runs, total, err := db.FindRuns(ctx, c.f)
			if err != nil || total != c.total || (total > 0 && !strings.HasPrefix(runs[0].Params["text"].(string), c.first)) {
				t.Errorf("%s: %d runs of %d, first %v, err %v; want %d, first %q", name, len(runs), total, runs, err, c.total, c.first)
			}
		}
		tools, users, err := db.RunFacets(ctx, 0)
		if err != nil || len(tools) != 3 || tools[0].Tool != "json_echo" || len(users) != 2 || users[1].Username != "bob" {
			t.Fatalf("facets %v %v %v", tools, users, err)
		}
		if tools, users, _ := db.RunFacets(ctx, 2); len(tools) != 2 || len(users) != 1 {
			t.Fatalf("bob's facets %v %v", tools, users)
		}
	})
	t.Run("OKDeleteCascades", func(t *testing.T) {
		db, _ := MustOpen(t)
		r := MustCreateRun(t, db, 1)
		if err := db.AppendRunEvent(ctx, &store.RunEvent{RunID: r.ID, Type: "text"}); err != nil {
			t.Fatal(err)
		}
		if err := db.DeleteRun(ctx, r.ID); err != nil {
			t.Fatal(err)
		}
		if evs, _ := db.RunEvents(ctx, r.ID, 0); len(evs) != 0 {
			t.Fatalf("%d events survive the run", len(evs))
		}
	})
	t.Run("OKInterrupt", func(t *testing.T) {
		db, _ := MustOpen(t)
		r := MustCreateRun(t, db, 1)
		if n, err := db.InterruptRuns(ctx); n != 1 || err != nil {
			t.Fatalf("interrupted %d, %v", n, err)
		}
		got, _ := db.FindRun(ctx, r.ID)
		if got.Status != store.RunFailed || got.Error == "" {
			t.Fatalf("run %+v", got)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		db, _ := MustOpen(t)
		_, err := db.FindRun(ctx, "nope")
		if plugboard.ErrorCode(err) != plugboard.ENOTFOUND {
			t.Fatalf("find: %v", err)
		}
		if err := db.DeleteRun(ctx, "nope"); plugboard.ErrorCode(err) != plugboard.ENOTFOUND {
			t.Fatalf("delete: %v", err)
		}
		if err := db.AppendRunEvent(ctx, &store.RunEvent{RunID: "nope", Type: "text"}); plugboard.ErrorCode(err) != plugboard.ENOTFOUND {
			t.Fatalf("append: %v", err)
		}
	})
	t.Run("ErrNoTool", func(t *testing.T) {
		db, _ := MustOpen(t)
		if err := db.CreateRun(ctx, &store.Run{UserID: 1}); plugboard.ErrorCode(err) != plugboard.EINVALID {
			t.Fatalf("create: %v", err)
		}
	})
}

// TestEndRun: a run's messages kept for its end are stored with it in one
// transaction, numbered after those already stored, its first message time
// the first tool message's arrival (not a call back's, not the write's).
func TestEndRun(t *testing.T) {
	ctx := context.Background()
	db, now := MustOpen(t)
	start := *now
	r := MustCreateRun(t, db, 1)
	if err := db.AppendRunEvent(ctx, &store.RunEvent{RunID: r.ID, Type: "text", Payload: json.RawMessage(`{"text":"a"}`), At: start.Add(5 * time.Millisecond)}); err != nil {
		t.Fatal(err)
	}
	*now = start.Add(time.Second)
	evs := []*store.RunEvent{
		{Type: store.RunEventCallBack, Payload: json.RawMessage(`{"call_back":{"type":"llm"}}`), At: start.Add(20 * time.Millisecond)},
		{Type: "text", Payload: json.RawMessage(`{"text":"b"}`), At: start.Add(30 * time.Millisecond)},
	}
	got, err := db.EndRun(ctx, r.ID, store.RunDone, "", evs)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != store.RunDone || got.Messages != 3 || got.FirstAt.Sub(got.CreatedAt) != 5*time.Millisecond ||
		got.EndedAt.Sub(got.CreatedAt) != time.Second || evs[0].Seq != 2 || evs[1].Seq != 3 {
		t.Fatalf("run %+v, seqs %d %d", got, evs[0].Seq, evs[1].Seq)
	}
	stored, err := db.RunEvents(ctx, r.ID, 0)
	if err != nil || len(stored) != 3 || stored[1].Type != store.RunEventCallBack || string(stored[2].Payload) != `{"text":"b"}` {
		t.Fatalf("stored %+v %v", stored, err)
	}
	// Ended, it keeps its first ending; the answer is the run as stored.
	if again, err := db.EndRun(ctx, r.ID, store.RunFailed, "late", nil); err != nil || again.Status != store.RunDone || again.Messages != 3 {
		t.Fatalf("ended again: %+v %v", again, err)
	}
	// A run's first message kept for its end: its arrival is the first.
	r2 := MustCreateRun(t, db, 1)
	got, err = db.EndRun(ctx, r2.ID, store.RunDone, "", []*store.RunEvent{{Type: "text", Payload: json.RawMessage(`{"text":"x"}`), At: start.Add(7 * time.Millisecond)}})
	if err != nil || got.FirstAt.Sub(start) != 7*time.Millisecond || got.Messages != 1 {
		t.Fatalf("run %+v %v", got, err)
	}
	if _, err := db.EndRun(ctx, "nope", store.RunDone, "", []*store.RunEvent{{Type: "text"}}); plugboard.ErrorCode(err) != plugboard.ENOTFOUND {
		t.Fatalf("unknown run: %v", err)
	}
}

func TestSaveRun(t *testing.T) {
	ctx := context.Background()
	db, now := MustOpen(t)
	start := *now
	r := &store.Run{UserID: 1, Username: "key:agent", PluginID: "plugboard/gotools", Provider: "gotools", Tool: "stream_text",
		Params: map[string]any{"text": "hi"}}
	db.NewRun(r)
	if r.ID == "" || !r.Running() || !r.CreatedAt.Equal(start) {
		t.Fatalf("new run %+v", r)
	}
	if _, err := db.FindRun(ctx, r.ID); plugboard.ErrorCode(err) != plugboard.ENOTFOUND {
		t.Fatalf("NewRun recorded the run: %v", err)
	}
	if err := db.SaveRun(ctx, r, nil); plugboard.ErrorCode(err) != plugboard.EINVALID {
		t.Fatalf("a running run saved: %v", err)
	}
	*now = start.Add(time.Second)
	r.Status, r.Error = store.RunFailed, "boom"
	evs := []*store.RunEvent{
		{Type: store.RunEventCallBack, Payload: json.RawMessage(`{"call_back":{"type":"llm"}}`), At: start.Add(2 * time.Millisecond)},
		{Type: "text", Payload: json.RawMessage(`{"text":"a"}`), At: start.Add(5 * time.Millisecond)},
		{Type: "blob", Blob: []byte("xyz")},
	}
	if err := db.SaveRun(ctx, r, evs); err != nil {
		t.Fatal(err)
	}
	got, err := db.FindRun(ctx, r.ID)
	if err != nil || got.Status != store.RunFailed || got.Error != "boom" || got.Messages != 3 || got.Username != "key:agent" ||
		got.FirstAt.Sub(start) != 5*time.Millisecond || got.EndedAt.Sub(start) != time.Second || got.Params["text"] != "hi" ||
		got.Bytes != int64(len(`{"call_back":{"type":"llm"}}`)+len(`{"text":"a"}`)+len(`{}`)+3) {
		t.Fatalf("saved %+v %v", got, err)
	}
	stored, err := db.RunEvents(ctx, r.ID, 0)
	if err != nil || len(stored) != 3 || stored[0].Seq != 1 || stored[2].Seq != 3 {
		t.Fatalf("events %+v %v", stored, err)
	}
	if blob, err := db.RunEvent(ctx, r.ID, 3); err != nil || string(blob.Blob) != "xyz" {
		t.Fatalf("blob %+v %v", blob, err)
	}
	// A run and its events are saved together or not at all.
	if err := db.SaveRun(ctx, r, []*store.RunEvent{{Type: "text"}}); err == nil {
		t.Fatal("a run saved twice")
	}
	if again, _ := db.RunEvents(ctx, r.ID, 0); len(again) != 3 {
		t.Fatalf("a failed save left %d events", len(again))
	}
}

// TestRunWritesGrouped ends many runs at once: each caller's write is
// committed (or fails) on its own account even when it shares a
// transaction with others, one of which fails.
func TestRunWritesGrouped(t *testing.T) {
	ctx := context.Background()
	db, _ := MustOpen(t)
	taken := &store.Run{PluginID: "p/q", Provider: "q", Tool: "t"}
	db.NewRun(taken)
	taken.Status = store.RunDone
	if err := db.SaveRun(ctx, taken, nil); err != nil {
		t.Fatal(err)
	}
	const n = 64
	errs := make([]error, n)
	runs := make([]*store.Run, n)
	var wg sync.WaitGroup
	for i := range n {
		runs[i] = &store.Run{PluginID: "p/q", Provider: "q", Tool: "t", Params: map[string]any{"i": float64(i)}}
		db.NewRun(runs[i])
		if i == n/2 { // even: saved
			runs[i].ID = taken.ID // fails: the id is recorded already
		}
		runs[i].Status = store.RunDone
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%2 == 0 {
				errs[i] = db.SaveRun(ctx, runs[i], []*store.RunEvent{{Type: "text", Payload: json.RawMessage(`{"text":"x"}`)}})
				return
			}
			r := &store.Run{PluginID: "p/q", Provider: "q", Tool: "t"}
			if errs[i] = db.CreateRun(ctx, r); errs[i] == nil {
				runs[i] = r
				_, errs[i] = db.EndRun(ctx, r.ID, store.RunDone, "", []*store.RunEvent{{Type: "text", Payload: json.RawMessage(`{"text":"y"}`)}})
			}
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if i == n/2 {
			if err == nil {
				t.Fatal("a run saved over another's id")
			}
			continue
		}
		got, ferr := db.FindRun(ctx, runs[i].ID)
		if err != nil || ferr != nil || got.Status != store.RunDone || got.Messages != 1 {
			t.Fatalf("run %d: %v %v %+v", i, err, ferr, got)
		}
	}
	db.Close()
	late := &store.Run{PluginID: "p/q", Provider: "q", Tool: "t"}
	db.NewRun(late)
	late.Status = store.RunDone
	if err := db.SaveRun(ctx, late, nil); err == nil {
		t.Fatal("a run saved after Close")
	}
}

// TestSaveRunLater: runs saved without waiting are committed together,
// each one's outcome told; WaitWrites and Close see them written.
func TestSaveRunLater(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "plugboard.db")
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	outcomes := map[string]error{}
	var ids []string
	for i := range 40 {
		r := &store.Run{PluginID: "p/q", Provider: "q", Tool: "t", Params: map[string]any{"i": float64(i)}}
		db.NewRun(r)
		if err := db.SaveRunLater(ctx, r, nil, nil); plugboard.ErrorCode(err) != plugboard.EINVALID {
			t.Fatalf("a running run accepted: %v", err)
		}
		r.Status = store.RunDone
		cctx, cancel := context.WithCancel(ctx)
		err := db.SaveRunLater(cctx, r, []*store.RunEvent{{Type: "text", Payload: json.RawMessage(`{"text":"x"}`)}}, func(err error) {
			mu.Lock()
			outcomes[r.ID] = err
			mu.Unlock()
		})
		cancel() // the caller went on: its context ends before the write
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
		if i == 19 {
			if err := db.WaitWrites(); err != nil {
				t.Fatal(err)
			}
			for _, id := range ids {
				if got, err := db.FindRun(ctx, id); err != nil || got.Messages != 1 {
					t.Fatalf("after WaitWrites %s: %+v %v", id, got, err)
				}
			}
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if len(outcomes) != 40 {
		t.Fatalf("%d outcomes told, want 40", len(outcomes))
	}
	for id, err := range outcomes {
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
	}
	mu.Unlock()
	again, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if _, n, err := again.FindRuns(ctx, store.RunFilter{}); err != nil || n != 40 {
		t.Fatalf("after Close and reopen: %d runs, %v", n, err)
	}
}

// TestRunIDsInTimeOrder: ids made later sort after earlier ones (by their
// millisecond), and ids made in the same millisecond still differ.
func TestRunIDsInTimeOrder(t *testing.T) {
	db, _ := MustOpen(t)
	seen := map[string]bool{}
	var prev string
	for i := range 200 {
		r := &store.Run{}
		db.NewRun(r)
		if len(r.ID) != 24 || seen[r.ID] {
			t.Fatalf("id %d: %q (seen before: %v)", i, r.ID, seen[r.ID])
		}
		seen[r.ID] = true
		if prev != "" && r.ID[:12] < prev[:12] {
			t.Fatalf("id %q made after %q sorts before it", r.ID, prev)
		}
		prev = r.ID
	}
}
