package manager

import (
	"context"
	"os"

	"github.com/plugboard/plugboard"
)

// Uninstall stops the plugin and removes its installation and files. The
// process and working dir stay while another tenant uses the same package;
// the stored package file goes once no installation refers to it.
func (m *Manager) Uninstall(ctx context.Context, tenant, installationID string) error {
	in := m.findInstallation(tenant, installationID)
	if in == nil {
		return plugboard.Errorf(plugboard.ENOTFOUND, "installation %s not found", installationID)
	}
	unlock := m.locks.lock(in.inst.PluginID)
	defer unlock()
	if in = m.findInstallation(tenant, installationID); in == nil {
		return plugboard.Errorf(plugboard.ENOTFOUND, "installation %s not found", installationID)
	}
	if in.inst.RuntimeType == RuntimeMCP {
		return m.removeMCP(ctx, in)
	}
	if in.remote() { // uninstalling a remote plugin disconnects it
		m.removeInstalledIf(in)
		m.rt.Stop(in.uid)
		return nil
	}
	packageDeleted, err := m.db.DeleteInstallation(ctx, installationID)
	if err != nil {
		return err
	}
	m.removeInstalled(tenant, in.inst.PluginID)
	m.installLogs.drop(in.inst.PluginID)
	if !m.usesPackage(in.uid) {
		m.stopRuntime(in.id, false)
	}
	if packageDeleted {
		m.removeUnpacked(in.id)
		if err := os.Remove(m.packageFile(in.id)); err != nil && !os.IsNotExist(err) {
			m.log.Warn("remove package file", "plugin", in.uid, "err", err)
		}
	}
	return nil
}
