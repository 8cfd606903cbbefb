// Package app assembles the application services — what Plugboard does
// for a user whatever the surface asking (the admin app's handlers, the
// agent, the gateway, the inner API): invoking tools (app/invoke), running agents
// (app/agent), model providers' credentials and default models
// (app/models), installing plugins and their sources (app/install),
// auto-upgrades (app/upgrade), outbound requests and their allowlist
// (app/outbound), API-based extensions (app/extension) and plugins' calls
// back (app/callback). A surface builds one App and closes it.
package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/plugboard/plugboard/app/agent"
	"github.com/plugboard/plugboard/app/callback"
	"github.com/plugboard/plugboard/app/extension"
	"github.com/plugboard/plugboard/app/gateway"
	"github.com/plugboard/plugboard/app/install"
	"github.com/plugboard/plugboard/app/invoke"
	"github.com/plugboard/plugboard/app/marketplace"
	"github.com/plugboard/plugboard/app/mcpserver"
	"github.com/plugboard/plugboard/app/models"
	"github.com/plugboard/plugboard/app/netguard"
	"github.com/plugboard/plugboard/app/outbound"
	"github.com/plugboard/plugboard/app/upgrade"
	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/store/secret"
)

// Config is what the services are made from.
type Config struct {
	Store  *store.DB
	Daemon *client.Client
	// Keys seals and opens secrets; nil leaves them unavailable.
	Keys   *secret.Keyring
	Logger *slog.Logger
	Now    func() time.Time
	// Examples is the directory of example packages.
	Examples string
	// OutboundAllow is the allowlist configured at start (nil: none).
	OutboundAllow *netguard.Allowlist
	// ExtensionTimeouts bound calls to API-based extensions (zero: Dify's).
	ExtensionTimeouts netguard.Timeouts
	// MarketplaceURL is Dify's marketplace API ("" serves the examples).
	MarketplaceURL string
	// GitHubAPIURL and GitHubTimeout are GitHub's defaults until saved.
	GitHubAPIURL  string
	GitHubTimeout time.Duration
	// PluginBaseURL is the app's address as plugins reach it, for the
	// links of files they upload ("" : the address each call came to).
	PluginBaseURL string
	// RunFinished is told how each tool run ended (metrics); may be nil.
	RunFinished func(pluginID, status string, took time.Duration)
}

// App holds the services.
type App struct {
	Invoke *invoke.Service
	Agent  *agent.Service
	Models *models.Service
	// Callback answers plugins' calls back (the inner API's service).
	Callback  *callback.Service
	Installs  *install.Service
	Upgrades  *upgrade.Scheduler
	Outbound  *outbound.Guard
	Extension *extension.Caller
	// Gateway serves the installed tools to outside agents (MCP, REST)
	// under API keys.
	Gateway *gateway.Service
	GitHub  *install.GitHubClients
	// Market is the marketplace client; nil when it could not be made.
	Market *marketplace.Client
	// MCPServers adds MCP servers and answers their bridges' relay.
	MCPServers *mcpserver.Service
}

// New makes every service. A marketplace that cannot be made is logged
// and left out; nothing else can fail here.
func New(cfg Config) *App {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	a := &App{}
	a.Invoke = invoke.New(invoke.Config{Store: cfg.Store, Daemon: cfg.Daemon, Keys: cfg.Keys, Logger: cfg.Logger,
		Finished: cfg.RunFinished})
	a.Gateway = gateway.New(gateway.Config{Store: cfg.Store, Daemon: cfg.Daemon, Invoke: a.Invoke, Logger: cfg.Logger, Now: cfg.Now})
	a.Models = models.New(models.Config{Store: cfg.Store, Daemon: cfg.Daemon, Keys: cfg.Keys, Logger: cfg.Logger})
	a.Agent = agent.New(agent.Config{Store: cfg.Store, Models: a.Models, Invoke: a.Invoke, Daemon: cfg.Daemon, Logger: cfg.Logger})
	a.Callback = callback.New(callback.Config{Store: cfg.Store, Daemon: cfg.Daemon, Models: a.Models, Invoke: a.Invoke,
		Logger: cfg.Logger, BaseURL: cfg.PluginBaseURL})
	a.Outbound = outbound.Open(context.Background(), cfg.Store, cfg.OutboundAllow, cfg.Logger)
	a.Extension = extension.NewCaller(a.Outbound.Guard, cfg.ExtensionTimeouts, time.Now)
	if m, err := install.NewMarketplace(cfg.MarketplaceURL, cfg.Examples, cfg.OutboundAllow); err != nil {
		cfg.Logger.Error("marketplace: not available", "err", err)
	} else {
		a.Market = m
	}
	a.GitHub = &install.GitHubClients{Store: cfg.Store, Keys: cfg.Keys, Guard: a.Outbound.Guard,
		DefaultURL: cfg.GitHubAPIURL, Timeout: cfg.GitHubTimeout}
	a.Installs = install.New(install.Config{Store: cfg.Store, Daemon: cfg.Daemon, Marketplace: a.Market,
		GitHub: a.GitHub.Client, Examples: cfg.Examples, Logger: cfg.Logger, Now: cfg.Now})
	a.Upgrades = upgrade.New(upgrade.Config{Store: cfg.Store, Installs: a.Installs, Logger: cfg.Logger, Now: cfg.Now})
	mc := mcpserver.Config{Store: cfg.Store, Guard: a.Outbound.Guard, Daemon: cfg.Daemon, Logger: cfg.Logger}
	if cfg.Keys != nil {
		mc.Keys = cfg.Keys
	}
	a.MCPServers = mcpserver.New(mc)
	return a
}

// Close stops the services' background work — the auto-upgrade
// scheduler, following install tasks for the audit log, the live agent and tool runs
// — and waits for it.
func (a *App) Close() {
	a.Upgrades.Close()
	a.Installs.Close()
	a.Gateway.Close()
	a.Agent.Close() // before the tool runs its steps make
	a.Invoke.Close()
}
