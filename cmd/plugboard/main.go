// Command plugboard is the Plugboard binary: the plugin daemon, and the tools
// plugin authors use to scaffold, pack and run plugins.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/alecthomas/kong"
)

// sourceDir is the checkout the binary was built from (set by the Makefile);
// `plugin init` points new plugins' go.mod at its SDK.
var sourceDir string

// cli is the command line; kong fills it from flags and PLUGBOARD_* variables.
type cli struct {
	Serve       serveCmd       `cmd:"" help:"Run the admin web app, with the daemon embedded unless --daemon-url is given."`
	Daemon      daemonCmd      `cmd:"" help:"Run the plugin daemon (HTTP API)."`
	Plugin      pluginCmd      `cmd:"" help:"Tools for plugin authors."`
	Keys        keysCmd        `cmd:"" help:"Manage the master key that encrypts stored secrets."`
	Marketplace marketplaceCmd `cmd:"" help:"Run a plugin marketplace from a folder of packages."`
}

type pluginCmd struct {
	Init   initCmd   `cmd:"" help:"Scaffold a Go plugin that packs and runs as it is."`
	Pack   packCmd   `cmd:"" help:"Validate a plugin directory and write its .difypkg package."`
	Run    runCmd    `cmd:"" help:"Run one tool of a plugin under a throwaway daemon and print its output."`
	Sign   signCmd   `cmd:"" help:"Sign a package with a private key (Dify's signature scheme)."`
	Verify verifyCmd `cmd:"" help:"Check a package's signature against trusted public keys."`
}

func main() {
	var c cli
	kctx := kong.Parse(&c,
		kong.Name("plugboard"),
		kong.Description("Plugboard: a self-hosted, Dify-compatible plugin platform."),
		kong.UsageOnError(),
	)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	kctx.BindTo(ctx, (*context.Context)(nil))
	if err := kctx.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "plugboard:", err)
		os.Exit(1)
	}
}
