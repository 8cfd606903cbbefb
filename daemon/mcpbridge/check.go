package mcpbridge

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/plugboard/plugboard"
)

var (
	serverName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
	envName    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// CheckName checks an MCP server's name: the provider's, and the plugin
// id's second part.
func CheckName(name string) error {
	if !serverName.MatchString(name) {
		return plugboard.Errorf(plugboard.EINVALID, "name %q: use 1 to 64 lowercase letters, digits and _, starting with a letter", name)
	}
	return nil
}

// CheckCommand checks a stdio server's command line and environment.
func CheckCommand(argv, env []string) error {
	if len(argv) == 0 || strings.TrimSpace(argv[0]) == "" {
		return plugboard.Errorf(plugboard.EINVALID, "command: give the MCP server's executable")
	}
	if _, err := exec.LookPath(argv[0]); err != nil {
		return plugboard.Errorf(plugboard.EINVALID, "command: %s is not an executable file (%v)", argv[0], err)
	}
	for _, e := range env {
		k, _, ok := strings.Cut(e, "=")
		if !ok || !envName.MatchString(k) {
			return plugboard.Errorf(plugboard.EINVALID, "environment: %q is not NAME=value", strings.SplitN(e, "=", 2)[0])
		}
		if strings.HasPrefix(k, "PLUGBOARD_") {
			return plugboard.Errorf(plugboard.EINVALID, "environment: %s is reserved", k)
		}
	}
	return nil
}

// Resolve returns argv with its executable as an absolute path, and the
// folder it is in (for the sandbox to let it be read and run; "" when it
// cannot be found).
func Resolve(argv []string) ([]string, string) {
	out := append([]string(nil), argv...)
	path, err := exec.LookPath(out[0])
	if err != nil {
		return out, ""
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return out, ""
	}
	out[0] = abs
	return out, filepath.Dir(abs)
}
