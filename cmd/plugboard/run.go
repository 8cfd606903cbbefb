package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/daemon/manager"
	"github.com/plugboard/plugboard/daemon/pkgfmt"
	"github.com/plugboard/plugboard/sdk/devkit"
)

type runCmd struct {
	Source     string            `arg:"" type:"existingpath" help:"Plugin directory or .difypkg file."`
	Tool       string            `required:"" help:"Tool to invoke."`
	Provider   string            `help:"Tool provider (default: the package's provider)."`
	Param      map[string]string `help:"Tool parameter, as name=value (repeatable); typed by the tool's declaration."`
	Credential map[string]string `help:"Provider credential, as name=value (repeatable)."`
	Out        string            `default:"." help:"Directory for blobs the tool returns."`
	Verbose    bool              `short:"v" help:"Show the daemon's log."`

	pythonFlags `embed:""`
}

func (c *runCmd) Run(ctx context.Context) error {
	py, err := c.options()
	if err != nil {
		return err
	}
	data, err := c.load(ctx)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "plugboard-run-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	key := randomKey()
	logger := newQuietLogger(c.Verbose)
	d, err := daemon.Start(ctx, daemon.Config{
		Addr: "127.0.0.1:0", APIKey: key, Logger: logger,
		Manager: manager.Config{DataDir: dir, Limits: pkgfmt.DefaultLimits(), Runner: py},
	})
	if err != nil {
		return err
	}
	defer func() {
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		d.Close(shutdown)
	}()
	cl := client.New(d.URL(), key)
	up, err := installPackage(ctx, cl, data)
	if err != nil {
		return err
	}
	return c.invoke(ctx, cl, up.Manifest)
}

// load returns the package bytes: the file as it is, or the directory packed.
func (c *runCmd) load(ctx context.Context) ([]byte, error) {
	info, err := os.Stat(c.Source)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return os.ReadFile(c.Source)
	}
	data, _, err := devkit.PackDir(ctx, c.Source, pkgfmt.DefaultLimits(), os.Stderr)
	return data, err
}

// installPackage uploads and installs the package, printing the task's stages.
func installPackage(ctx context.Context, cl *client.Client, data []byte) (*apispec.UploadResult, error) {
	up, err := cl.UploadPackage(ctx, "plugin.difypkg", bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	for _, w := range up.Warnings {
		fmt.Fprintf(os.Stderr, "warning: %s\n", w)
	}
	fmt.Fprintf(os.Stderr, "installing %s\n", up.UniqueIdentifier)
	res, err := cl.Install(ctx, []string{up.UniqueIdentifier}, "package", nil)
	if err != nil {
		return nil, err
	}
	if res.AllInstalled {
		return up, nil
	}
	task, err := cl.WaitTask(ctx, res.TaskID)
	if err != nil {
		return nil, err
	}
	for _, p := range task.Plugins {
		if p.Status != apispec.TaskSuccess {
			return nil, fmt.Errorf("install failed at %s: %s", p.Stage, p.Message)
		}
	}
	return up, nil
}

func (c *runCmd) invoke(ctx context.Context, cl *client.Client, m *plugboard.Manifest) error {
	if m.Tool == nil {
		return errors.New("the package provides no tools")
	}
	provider := c.Provider
	if provider == "" {
		provider = m.Tool.Identity.Name
	}
	tool, err := findTool(m.Tool, c.Tool)
	if err != nil {
		return err
	}
	params, err := typedParams(tool, c.Param)
	if err != nil {
		return err
	}
	creds := map[string]any{}
	for k, v := range c.Credential {
		creds[k] = v
	}
	stream, err := cl.InvokeTool(ctx, m.PluginID(), apispec.InvokeToolData{
		Provider: provider, Tool: c.Tool, ToolParameters: params, Credentials: creds, CredentialType: "api-key",
	}, "cli")
	if err != nil {
		return err
	}
	defer stream.Close()
	return c.print(stream)
}

func findTool(p *plugboard.ToolProvider, name string) (*plugboard.Tool, error) {
	var names []string
	for i := range p.Tools {
		if p.Tools[i].Identity.Name == name {
			return &p.Tools[i], nil
		}
		names = append(names, p.Tools[i].Identity.Name)
	}
	return nil, fmt.Errorf("no tool %q in provider %s (tools: %s)", name, p.Identity.Name, strings.Join(names, ", "))
}

// typedParams converts name=value strings to the types the tool declares.
func typedParams(tool *plugboard.Tool, raw map[string]string) (map[string]any, error) {
	out := map[string]any{}
	for name, value := range raw {
		var param *plugboard.Parameter
		for i := range tool.Parameters {
			if tool.Parameters[i].Name == name {
				param = &tool.Parameters[i]
			}
		}
		if param == nil {
			return nil, fmt.Errorf("tool %s has no parameter %q", tool.Identity.Name, name)
		}
		v, err := typedValue(param.Type, value)
		if err != nil {
			return nil, fmt.Errorf("parameter %s: %w", name, err)
		}
		out[name] = v
	}
	return out, nil
}

func typedValue(typ, value string) (any, error) {
	switch typ {
	case plugboard.ParamNumber:
		return strconv.ParseFloat(value, 64)
	case plugboard.ParamBoolean, plugboard.ParamCheckbox:
		return strconv.ParseBool(value)
	case plugboard.ParamArray, plugboard.ParamObject:
		var v any
		if err := json.Unmarshal([]byte(value), &v); err != nil {
			return nil, fmt.Errorf("not valid JSON: %w", err)
		}
		return v, nil
	default:
		return value, nil
	}
}

// print writes each message as it arrives: text inline, the rest on lines of their own.
func (c *runCmd) print(stream *client.ToolStream) error {
	for {
		msg, err := stream.Next()
		if errors.Is(err, io.EOF) {
			fmt.Println()
			return nil
		}
		if err != nil {
			fmt.Println()
			return err
		}
		if err := c.printMessage(msg); err != nil {
			return err
		}
	}
}

func (c *runCmd) printMessage(msg *client.Message) error {
	switch msg.Type {
	case "text":
		fmt.Print(msg.Text)
	case "json":
		b, _ := json.MarshalIndent(msg.JSON, "", "  ")
		fmt.Printf("\n%s\n", b)
	case "blob":
		return c.saveBlob(msg)
	case "link", "image", "image_link":
		fmt.Printf("\n[%s] %s\n", msg.Type, msg.Link)
	default:
		fmt.Printf("\n[%s] %s\n", msg.Type, msg.Raw)
	}
	return nil
}

func (c *runCmd) saveBlob(msg *client.Message) error {
	name := filepath.Base(msg.Filename)
	if name == "." || name == "/" || name == "" {
		name = "blob.bin"
	}
	path := filepath.Join(c.Out, name)
	if err := os.WriteFile(path, msg.Blob, 0o644); err != nil {
		return err
	}
	fmt.Printf("\n[blob] %s, %d bytes → %s\n", msg.MIME, len(msg.Blob), path)
	return nil
}

func randomKey() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}
