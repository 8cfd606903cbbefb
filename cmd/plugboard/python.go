package main

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/plugboard/plugboard/daemon/runner"
)

// pythonFlags say how Python plugins' environments are built: which
// interpreters to offer, where dependencies come from and how long a build
// may take.
type pythonFlags struct {
	Python           []string      `name:"python" env:"PLUGBOARD_PYTHON" placeholder:"PATH" help:"Python interpreters to run plugins on, asked before python3.X on PATH, pyenv and uv installs (comma-separated; each plugin gets the one of its meta.runner.version)."`
	PythonIndexURL   string        `name:"python-index-url" env:"PLUGBOARD_PYTHON_INDEX_URL" placeholder:"URL" help:"Package index for plugins' dependencies (default: pip's, PyPI; offline when only --python-find-links is set)."`
	PythonFindLinks  []string      `name:"python-find-links" env:"PLUGBOARD_PYTHON_FIND_LINKS" placeholder:"DIR" help:"Shared folders of wheels plugins' dependencies are installed from (comma-separated; for air-gapped hosts)."`
	PythonEnvTimeout time.Duration `name:"python-env-timeout" env:"PLUGBOARD_PYTHON_ENV_TIMEOUT" default:"10m" help:"Time limit for building one plugin's Python environment (venv and dependencies)."`
	UV               string        `name:"uv" env:"PLUGBOARD_UV" placeholder:"PATH" help:"The uv binary that builds environments (default: uv on PATH, if any; \"off\" uses pip)."`
}

// options checks the flags and turns them into the runner's options.
func (f pythonFlags) options() (runner.Options, error) {
	opt := runner.Options{Pythons: f.Python, IndexURL: f.PythonIndexURL, UV: f.UV, EnvTimeout: f.PythonEnvTimeout}
	if f.PythonEnvTimeout <= 0 {
		return opt, fmt.Errorf("--python-env-timeout %s: want a positive duration such as 10m", f.PythonEnvTimeout)
	}
	if f.PythonIndexURL != "" {
		u, err := url.Parse(f.PythonIndexURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return opt, fmt.Errorf("--python-index-url %q: want an http(s) URL such as https://pypi.example.com/simple", u.Redacted())
		}
	}
	for _, dir := range f.PythonFindLinks {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return opt, err
		}
		if st, err := os.Stat(abs); err != nil || !st.IsDir() {
			return opt, fmt.Errorf("--python-find-links %s: not a folder", dir)
		}
		opt.FindLinks = append(opt.FindLinks, abs)
	}
	return opt, nil
}
