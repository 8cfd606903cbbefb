package gateway

import (
	"context"
	"sync"
	"time"

	"github.com/plugboard/plugboard/store"
)

// keyTTL is how long an authenticated key is believed without asking the
// database again. Revoking through Revoke forgets every key at once.
const keyTTL = 5 * time.Second

// keyCache holds the keys recently found, by the hash of their secret.
type keyCache struct {
	db     *store.DB
	mu     sync.Mutex
	byHash map[string]keyEntry
}

type keyEntry struct {
	key    *store.APIKey
	loaded time.Time
}

// find is the key whose secret hashes to hash (plugboard.ENOTFOUND: none);
// unknown hashes are not kept.
func (c *keyCache) find(ctx context.Context, hash string) (*store.APIKey, error) {
	c.mu.Lock()
	e, ok := c.byHash[hash]
	c.mu.Unlock()
	if ok && time.Since(e.loaded) < keyTTL {
		return e.key, nil
	}
	k, err := c.db.FindAPIKeyByHash(ctx, hash)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.byHash) > 10_000 {
		clear(c.byHash)
	}
	c.byHash[hash] = keyEntry{key: k, loaded: time.Now()}
	c.mu.Unlock()
	return k, nil
}

// forget drops every key, so the next request of each reads it again.
func (c *keyCache) forget() {
	c.mu.Lock()
	clear(c.byHash)
	c.mu.Unlock()
}
