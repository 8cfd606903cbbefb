package manager

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"maps"

	"github.com/google/uuid"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/state"
)

// Remote installations: a plugin connected over the debugging port is listed
// as an installation of its tenant while it is connected, with runtime type
// and source "remote". It is kept in memory only, so a daemon restart leaves
// nothing of it behind.
//
// A remote plugin and a locally installed plugin of the same plugin id never
// coexist in one tenant: the remote handshake is refused while the local one
// is installed, and installing it locally is refused while the remote one is
// connected. A second connection of the same remote plugin replaces the
// first (a reconnect whose old socket is not yet known to be dead).
const (
	RuntimeRemote = "remote"
	SourceRemote  = "remote"
)

// remoteNamespace derives a remote installation's stable id from its identifier.
var remoteNamespace = uuid.MustParse("4f3a0c5e-5d0e-4c55-9a0e-8f2b7f2b6a10")

// RemotePlugin is a remote plugin that has completed its handshake and sent
// its declarations.
type RemotePlugin struct {
	Tenant   string
	Manifest *plugboard.Manifest // validated (pkgfmt.DecodeRemote), Tool filled in
	Assets   map[string][]byte   // by file name, as sent
	Reader   io.Reader           // the connection's events, after the handshake
	Writer   io.Writer
	Closer   io.Closer
}

// RemoteIdentifier is a remote plugin's unique identifier, Dify's
// author/name:version@sha256(json(declaration)+tenant): the same declaration
// connecting for the same tenant always gets the same identifier.
func RemoteIdentifier(tenant string, man *plugboard.Manifest) (plugboard.Identifier, error) {
	data, err := json.Marshal(man)
	if err != nil {
		return plugboard.Identifier{}, err
	}
	sum := sha256.Sum256(append(data, tenant...))
	return plugboard.Identifier{Author: man.Author, Name: man.Name, Version: man.Version, Checksum: hex.EncodeToString(sum[:])}, nil
}

// AttachRemote installs a connected remote plugin for its tenant and routes
// invocations to it until the connection ends; then the installation goes.
// It returns the plugin's unique identifier and a channel closed once the
// installation is gone. A plugin of the same id installed locally for the
// tenant is an plugboard.ECONFLICT.
func (m *Manager) AttachRemote(ctx context.Context, rp RemotePlugin) (string, <-chan struct{}, error) {
	id, err := RemoteIdentifier(rp.Tenant, rp.Manifest)
	if err != nil {
		return "", nil, err
	}
	pluginID, uid := id.PluginID(), id.String()
	unlock := m.locks.lock(pluginID)
	defer unlock()
	if cur := m.lookup(rp.Tenant, pluginID); cur != nil {
		if !cur.remote() {
			return "", nil, plugboard.Errorf(plugboard.ECONFLICT,
				"plugin %s is installed in this workspace (version %s); uninstall it before debugging it remotely", pluginID, cur.id.Version)
		}
		m.removeInstalledIf(cur)
		m.rt.Stop(cur.uid) // an older connection of the same plugin
	}
	rem, err := m.rt.Attach(uid, pluginID, rp.Reader, rp.Writer, rp.Closer)
	if err != nil {
		return "", nil, err
	}
	now := m.cfg.Now().UTC()
	inst := &state.Installation{
		ID: uuid.NewSHA1(remoteNamespace, []byte(uid)).String(), TenantID: rp.Tenant, PluginID: pluginID,
		UniqueIdentifier: uid, Source: SourceRemote, Meta: map[string]any{}, RuntimeType: RuntimeRemote,
		CreatedAt: now, UpdatedAt: now,
	}
	in := newInstalled(inst, id, rp.Manifest)
	in.assets = maps.Clone(rp.Assets)
	m.setInstalled(in)
	gone := make(chan struct{})
	go func() {
		<-rem.Done()
		m.removeInstalledIf(in)
		close(gone)
	}()
	return uid, gone, nil
}

// remote reports whether in is a connected remote plugin.
func (in *installed) remote() bool { return in.inst.RuntimeType == RuntimeRemote }

// removeInstalledIf drops in from the index if it is still the tenant's
// installation of its plugin.
func (m *Manager) removeInstalledIf(in *installed) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := indexKey{in.inst.TenantID, in.inst.PluginID}
	if (*m.index.Load())[k] != in {
		return
	}
	next := maps.Clone(*m.index.Load())
	delete(next, k)
	m.index.Store(&next)
}

// remoteByUID returns the connected remote plugin with identifier uid, or nil.
func (m *Manager) remoteByUID(uid string) *installed {
	for _, in := range *m.index.Load() {
		if in.uid == uid && in.remote() {
			return in
		}
	}
	return nil
}

// remoteAsset returns an asset a remote plugin sent.
func (in *installed) remoteAsset(name string) ([]byte, error) {
	data, ok := in.assets[name]
	if !ok {
		return nil, plugboard.Errorf(plugboard.ENOTFOUND, "asset %q was not sent by remote plugin %s", name, in.uid)
	}
	return data, nil
}

// DebugKey returns the tenant's remote debugging key (created on first use,
// kept across restarts).
func (m *Manager) DebugKey(ctx context.Context, tenant string) (string, error) {
	return m.db.DebugKey(ctx, tenant)
}

// RegenerateDebugKey gives the tenant a new remote debugging key; plugins
// already connected stay connected.
func (m *Manager) RegenerateDebugKey(ctx context.Context, tenant string) (string, error) {
	return m.db.RegenerateDebugKey(ctx, tenant)
}

// DebugKeyTenant returns the tenant whose debugging key is key.
func (m *Manager) DebugKeyTenant(ctx context.Context, key string) (string, bool, error) {
	return m.db.DebugKeyTenant(ctx, key)
}
