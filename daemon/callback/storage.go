package callback

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/plugboard/plugboard/daemon/protocol"
	"github.com/plugboard/plugboard/daemon/runtime"
	"github.com/plugboard/plugboard/daemon/state"
)

// MaxKey is the longest storage key, in bytes (Dify's 256).
const MaxKey = 256

// storage answers a storage call back from the daemon's database, with
// Dify's replies: get {"data": hex}, set {"data": "ok"}, del {"data": "ok",
// "deleted_num": n}, exist {"data": bool, "exist_num": n}. Each error is
// worded as Dify's daemon words it.
func storage(ctx context.Context, s *Service, cb *runtime.CallBack, r runtime.Reply) error {
	if s.cfg.DB == nil {
		return errors.New("storage is not available on this daemon")
	}
	opt, _ := cb.Request["opt"].(string)
	key, _ := cb.Request["key"].(string)
	ns := state.Storage{Tenant: cb.Tenant, PluginID: cb.PluginID}
	keyErr := checkKey(key)
	switch opt {
	case "get":
		if keyErr != nil {
			return errLoad
		}
		v, ok, err := s.cfg.DB.GetStorage(ctx, ns, key)
		if err != nil || !ok {
			return errLoad
		}
		return r.Send(protocol.BackwardsStruct, map[string]any{"data": hex.EncodeToString(v)})
	case "set":
		return s.set(ctx, cb, ns, key, keyErr, r)
	case "del":
		if keyErr != nil {
			return fmt.Errorf("delete data failed: %w", keyErr)
		}
		n, err := s.cfg.DB.DeleteStorage(ctx, ns, key)
		if err != nil {
			return fmt.Errorf("delete data failed: %w", err)
		}
		return r.Send(protocol.BackwardsStruct, map[string]any{"data": "ok", "deleted_num": n})
	case "exist":
		if keyErr != nil {
			return fmt.Errorf("exist data failed: %w", keyErr)
		}
		ok, err := s.cfg.DB.StorageExists(ctx, ns, key)
		if err != nil {
			return fmt.Errorf("exist data failed: %w", err)
		}
		n := 0
		if ok {
			n = 1
		}
		return r.Send(protocol.BackwardsStruct, map[string]any{"data": ok, "exist_num": n})
	}
	return fmt.Errorf("unmarshal backwards invoke request failed: opt %q is not one of get, set, del, exist", opt)
}

// errLoad is Dify's one answer to a get that finds nothing, whatever the
// reason (a bad key, no value, a failed read).
var errLoad = errors.New("load data failed, please check if the key is correct or you have not set it")

// set stores a hex value within the quota: the manifest's storage.size,
// and never more than the daemon's MaxStorage.
func (s *Service) set(ctx context.Context, cb *runtime.CallBack, ns state.Storage, key string, keyErr error, r runtime.Reply) error {
	text, _ := cb.Request["value"].(string)
	value, err := hex.DecodeString(text)
	if err != nil {
		return fmt.Errorf("decode data failed: %w", err)
	}
	if keyErr != nil {
		return fmt.Errorf("save data failed: %w", keyErr)
	}
	limit := s.cfg.MaxStorage
	if size := s.permission(cb).StorageSize; size > 0 && size < limit {
		limit = size
	}
	if err := s.cfg.DB.SetStorage(ctx, ns, key, value, limit); err != nil {
		if errors.Is(err, state.ErrStorageFull) {
			return fmt.Errorf("save data failed: %w (%d bytes)", err, limit)
		}
		return fmt.Errorf("save data failed: %w", err)
	}
	return r.Send(protocol.BackwardsStruct, map[string]any{"data": "ok"})
}

// checkKey applies Dify's key rules: at most MaxKey long, and once
// cleaned as a path, no "..", "//" or "\".
func checkKey(key string) error {
	if len(key) > MaxKey {
		return fmt.Errorf("key length must be less than %d characters", MaxKey)
	}
	clean := path.Clean(key)
	if strings.Contains(clean, "..") || strings.Contains(clean, "//") || strings.Contains(clean, `\`) {
		return errors.New("invalid key: path traversal attempt detected")
	}
	return nil
}
