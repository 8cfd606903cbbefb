package runtime

// BaseEnv is the environment a plugin in dir runs with, before its own
// settings: the few harmless variables kept from the daemon's and nothing
// else (no PYTHONPATH, PIP_*, VIRTUAL_ENV …). The runner builds Python
// environments with it too, so what pip installs is what the plugin sees.
func BaseEnv(dir string) []string {
	return scrubbedEnv(Spec{Dir: dir})
}
