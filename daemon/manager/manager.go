// Package manager owns the daemon's installed plugins: it stores uploaded
// packages, runs install and upgrade tasks through their stages, keeps the
// state in SQLite, restores every installed plugin at start, and routes
// invocations to the right runtime.
//
// CONTRACT STUB: the exported API below is fixed; bodies are being written.
package manager

import (
	"context"
	"log/slog"
	"time"

	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/pkgfmt"
	"github.com/plugboard/plugboard/daemon/protocol"
	"github.com/plugboard/plugboard/daemon/runner"
	"github.com/plugboard/plugboard/daemon/runtime"
)

// Config configures a Manager.
type Config struct {
	DataDir string
	Limits  pkgfmt.Limits
	Runtime runtime.Config
	Runner  runner.Options
	// StartTimeout overrides the runner's default start timeout when set.
	StartTimeout time.Duration
	Logger       *slog.Logger
	Now          func() time.Time
}

// Manager is the daemon's plugin manager.
type Manager struct{}

// Open opens (or creates) the state in cfg.DataDir and starts every installed
// plugin again in the background.
func Open(ctx context.Context, cfg Config) (*Manager, error) { panic("not implemented") }

// Close stops every plugin and closes the database.
func (m *Manager) Close() error { panic("not implemented") }

// Upload decodes, validates and stores a package; it does not install it.
func (m *Manager) Upload(ctx context.Context, tenant string, data []byte) (*apispec.UploadResult, error) {
	panic("not implemented")
}

// Install starts a task installing uploaded packages.
func (m *Manager) Install(ctx context.Context, tenant string, req apispec.InstallRequest) (*apispec.InstallResult, error) {
	panic("not implemented")
}

// Upgrade replaces an installed version with another uploaded one.
func (m *Manager) Upgrade(ctx context.Context, tenant string, req apispec.UpgradeRequest) (*apispec.InstallResult, error) {
	panic("not implemented")
}

// Task returns one install task.
func (m *Manager) Task(ctx context.Context, tenant, id string) (*apispec.Task, error) {
	panic("not implemented")
}

// Tasks lists install tasks, newest first.
func (m *Manager) Tasks(ctx context.Context, tenant string, page, size int) ([]apispec.Task, error) {
	panic("not implemented")
}

// DeleteTask removes a finished task ("" removes every finished task).
func (m *Manager) DeleteTask(ctx context.Context, tenant, id string) error { panic("not implemented") }

// Uninstall stops the plugin and removes its installation and files.
func (m *Manager) Uninstall(ctx context.Context, tenant, installationID string) error {
	panic("not implemented")
}

// List returns a page of installations with their runtime state.
func (m *Manager) List(ctx context.Context, tenant string, page, size int) (*apispec.Page[apispec.Installation], error) {
	panic("not implemented")
}

// Manifest returns the manifest of a stored package.
func (m *Manager) Manifest(ctx context.Context, uniqueIdentifier string) (*pkgfmt.Manifest, error) {
	panic("not implemented")
}

// Asset returns a file from a stored package's _assets.
func (m *Manager) Asset(ctx context.Context, uniqueIdentifier, name string) ([]byte, error) {
	panic("not implemented")
}

// Tools lists the tool providers of the tenant's installed plugins.
func (m *Manager) Tools(ctx context.Context, tenant string, page, size int) ([]apispec.ToolProviderEntry, error) {
	panic("not implemented")
}

// Tool returns one tool provider.
func (m *Manager) Tool(ctx context.Context, tenant, pluginID, provider string) (*apispec.ToolProviderEntry, error) {
	panic("not implemented")
}

// Invoke checks the request against the installed declaration (plugin,
// provider, tool, required parameters) and opens a session on its runtime.
func (m *Manager) Invoke(ctx context.Context, tenant, pluginID string, req *protocol.RequestData) (*runtime.Stream, error) {
	panic("not implemented")
}

// Status returns an installed plugin's runtime state.
func (m *Manager) Status(ctx context.Context, tenant, pluginID string) (*apispec.RuntimeStatus, error) {
	panic("not implemented")
}

// Logs returns an installed plugin's latest log entries.
func (m *Manager) Logs(ctx context.Context, tenant, pluginID string, limit int) ([]apispec.LogEntry, error) {
	panic("not implemented")
}

// Installed counts running installations (for health).
func (m *Manager) Installed() int { panic("not implemented") }
