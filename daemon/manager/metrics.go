package manager

import (
	"slices"
	"strings"
	"time"

	"github.com/plugboard/plugboard/daemon/metrics"
)

// Runtimes lists every plugin runtime (one per unique identifier, however
// many tenants share it) with its status, for the metrics.
func (m *Manager) Runtimes() []metrics.Plugin {
	seen := map[string]bool{}
	var out []metrics.Plugin
	for _, in := range *m.index.Load() {
		if seen[in.uid] {
			continue
		}
		seen[in.uid] = true
		out = append(out, metrics.Plugin{PluginID: in.id.PluginID(), Version: in.id.Version,
			Runtime: in.inst.RuntimeType, Status: m.status(in.uid)})
	}
	slices.SortFunc(out, func(a, b metrics.Plugin) int { return strings.Compare(a.PluginID, b.PluginID) })
	return out
}

// stageClock times the stages one plugin's install goes through.
type stageClock struct {
	metrics *metrics.Daemon
	stage   string
	since   time.Time
}

// enter notes the stage being reported; a new stage ends the previous one.
func (c *stageClock) enter(stage string) {
	if stage == c.stage {
		return
	}
	c.end(metrics.InstallOK)
	c.stage, c.since = stage, time.Now()
}

// end records the current stage as ended with outcome.
func (c *stageClock) end(outcome string) {
	if c.stage != "" {
		c.metrics.InstallStage(c.stage, outcome, time.Since(c.since))
	}
	c.stage = ""
}

// done ends the install: its last stage and the install itself.
func (c *stageClock) done(err error) {
	outcome := metrics.InstallOK
	if err != nil {
		outcome = metrics.InstallFailed
	}
	c.end(outcome)
	c.metrics.Install(outcome)
}
