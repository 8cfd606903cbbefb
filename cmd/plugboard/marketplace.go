package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/plugboard/plugboard/app/marketplace"
)

type marketplaceCmd struct {
	Serve marketplaceServeCmd `cmd:"" help:"Serve a marketplace (Dify's API) from a folder of .difypkg packages."`
}

type marketplaceServeCmd struct {
	Dir  string `arg:"" help:"Folder of .difypkg packages; several versions of a plugin may sit side by side."`
	Addr string `default:"127.0.0.1:5004" help:"Address to listen on."`
}

// Run serves the folder's packages until ctx ends.
func (c *marketplaceServeCmd) Run(ctx context.Context) error {
	fi, err := os.Stat(c.Dir)
	if err != nil {
		return fmt.Errorf("marketplace folder: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("marketplace folder: %s is not a directory", c.Dir)
	}
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: marketplace.NewServer(c.Dir), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
	}()
	fmt.Printf("Marketplace of %s on http://%s\n", c.Dir, ln.Addr())
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
