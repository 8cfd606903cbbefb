package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/plugboard/plugboard/daemon/pkgfmt"
	"github.com/plugboard/plugboard/sdk/devkit"
)

type initCmd struct {
	Name   string `arg:"" help:"Plugin name (lowercase letters, digits, _ and -)."`
	Author string `default:"me" help:"Author id (lowercase letters, digits, _ and -)."`
	Dir    string `help:"Directory to create (default: ./NAME)."`
	SDK    string `help:"Plugboard checkout whose sdk/ the plugin builds against (default: the one this binary was built from)."`
}

func (c *initCmd) Run() error {
	dir := c.Dir
	if dir == "" {
		dir = c.Name
	}
	sdk := c.SDK
	if sdk == "" {
		sdk = sourceDir
	}
	if sdk == "" {
		return errors.New("cannot tell where the Plugboard SDK is: pass --sdk PATH_TO_PLUGBOARD_CHECKOUT")
	}
	if err := devkit.Init(dir, c.Name, c.Author, sdk); err != nil {
		return err
	}
	fmt.Printf("Created %s. Next:\n  plugboard plugin pack %s -o %s.difypkg\n  plugboard plugin run %s --tool hello --param name=world\n", dir, dir, c.Name, dir)
	return nil
}

type packCmd struct {
	Dir    string `arg:"" type:"existingdir" help:"Plugin directory (with manifest.yaml)."`
	Output string `short:"o" required:"" help:"Package file to write."`
}

func (c *packCmd) Run(ctx context.Context) error {
	data, pkg, err := devkit.PackDir(ctx, c.Dir, pkgfmt.DefaultLimits(), os.Stderr)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(c.Output, data); err != nil {
		return err
	}
	fmt.Println(pkg.ID.String())
	return nil
}

// writeFileAtomic writes data to a temporary file beside path, then renames it.
func writeFileAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".pack-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
