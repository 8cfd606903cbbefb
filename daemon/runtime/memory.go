package runtime

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// memoryWatch polls the resident memory of every running plugin's process
// group once per interval (one scan of /proc for all plugins) and stops any
// plugin over its limit that no cgroup enforces.
type memoryWatch struct {
	interval time.Duration
	plugins  func() []*plugin
	once     sync.Once
	quit     chan struct{}
	closed   sync.Once
}

func newMemoryWatch(interval time.Duration, plugins func() []*plugin) *memoryWatch {
	return &memoryWatch{interval: interval, plugins: plugins, quit: make(chan struct{})}
}

// watch starts the poller (once).
func (w *memoryWatch) watch() {
	w.once.Do(func() { go w.loop() })
}

func (w *memoryWatch) close() {
	w.closed.Do(func() { close(w.quit) })
}

func (w *memoryWatch) loop() {
	tick := time.NewTicker(w.interval)
	defer tick.Stop()
	for {
		select {
		case <-w.quit:
			return
		case <-tick.C:
			w.poll()
		}
	}
}

func (w *memoryWatch) poll() {
	var groups map[int]int64
	for _, p := range w.plugins() {
		p.mu.Lock()
		inst := p.inst
		p.mu.Unlock()
		if inst == nil {
			continue
		}
		used, ok := inst.cg.current()
		if !ok {
			if groups == nil {
				groups = groupRSS()
			}
			used = groups[inst.pid]
		}
		inst.memory.Store(used)
		if limit := p.spec.MemoryLimit; limit > 0 && inst.cg == nil && used > limit {
			inst.kill(fmt.Sprintf("was stopped: over its memory limit (%s, using %s)", mib(limit), mib(used)))
		}
	}
}

// groupRSS sums the resident memory of every process by process group.
func groupRSS() map[int]int64 {
	out := map[int]int64{}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return out
	}
	page := int64(os.Getpagesize())
	for _, e := range entries {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		if pgrp, rss, ok := readStat(filepath.Join("/proc", e.Name(), "stat")); ok {
			out[pgrp] += rss * page
		}
	}
	return out
}

// readStat returns a process's group id and resident pages from
// /proc/PID/stat.
func readStat(path string) (pgrp int, rss int64, ok bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, false
	}
	f := bytes.Fields(b[i+1:])
	// Fields after the command: state(0) ppid(1) pgrp(2) … rss(21).
	if len(f) < 22 {
		return 0, 0, false
	}
	pgrp, err1 := strconv.Atoi(string(f[2]))
	rss, err2 := strconv.ParseInt(string(f[21]), 10, 64)
	return pgrp, rss, err1 == nil && err2 == nil
}

// mib formats a byte count as MiB.
func mib(n int64) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}
