package runtime

import (
	"bufio"
	"sync"
	"sync/atomic"
	"time"
)

// lineWriter serialises lines onto one writer, flushing only when no other
// line is waiting to be written, so bursts share a write call.
type lineWriter struct {
	mu        sync.Mutex
	bw        *bufio.Writer
	pending   atomic.Int32
	busySince atomic.Int64 // unix nanoseconds a write started; 0 when idle
	err       error
}

func (w *lineWriter) write(line []byte) error {
	w.pending.Add(1)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		w.pending.Add(-1)
		return w.err
	}
	w.busySince.Store(time.Now().UnixNano())
	_, err := w.bw.Write(line)
	if w.pending.Add(-1) == 0 && err == nil {
		err = w.bw.Flush()
	}
	w.busySince.Store(0)
	if err != nil {
		w.err = err
	}
	return err
}

// stuckFor reports how long the current write has been blocked (0 if none).
func (w *lineWriter) stuckFor() time.Duration {
	t := w.busySince.Load()
	if t == 0 {
		return 0
	}
	return time.Since(time.Unix(0, t))
}
