package store

import (
	"sync"
	"sync/atomic"
)

// readCache keeps values read from the database until what they were read
// from changes: each write, once committed, starts a new generation
// (changed), and no value read in an earlier one is given again. A reader
// takes the generation before it reads (generation) and keeps what it read
// with it (put), so a value read while a write commits is not kept past it.
// Callers copy what they hand out.
type readCache[K comparable, V any] struct {
	gen atomic.Int64
	m   sync.Map // K → cached[V]
}

type cached[V any] struct {
	v   V
	gen int64
}

// generation is the current generation, to take before reading.
func (c *readCache[K, V]) generation() int64 { return c.gen.Load() }

// get is the value kept for k in the current generation.
func (c *readCache[K, V]) get(k K) (V, bool) {
	if x, ok := c.m.Load(k); ok {
		if e := x.(cached[V]); e.gen == c.gen.Load() {
			return e.v, true
		}
	}
	var zero V
	return zero, false
}

// put keeps v for k, read in generation gen.
func (c *readCache[K, V]) put(k K, v V, gen int64) { c.m.Store(k, cached[V]{v, gen}) }

// changed starts a new generation; call it after the write committed.
func (c *readCache[K, V]) changed() {
	c.gen.Add(1)
	c.m.Clear()
}
