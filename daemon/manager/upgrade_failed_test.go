package manager_test

import (
	"context"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/plugboard/plugboard/daemon/apispec"
)

// TestUpgradeFailed upgrades to a version whose executable exits at start:
// the upgrade fails and the old version keeps serving, unchanged.
func TestUpgradeFailed(t *testing.T) {
	ctx := context.Background()
	broken, err := packGo("upgrade-broken", map[string]string{"version": "0.0.3"}, filepath.Join(work, "crash.sh"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	m := MustOpen(t, dir)
	v1 := MustInstall(t, m, pkgs.goV1)
	before, _ := m.List(ctx, tenant, 1, 10)
	v3 := MustUpload(t, m, broken)
	res, err := m.Upgrade(ctx, tenant, apispec.UpgradeRequest{OriginalPluginUniqueIdentifier: v1, NewPluginUniqueIdentifier: v3, Source: "package"})
	if err != nil {
		t.Fatal(err)
	}
	if task := MustWaitTask(t, m, res.TaskID); task.Status != apispec.TaskFailed || task.Plugins[0].Message == "" {
		t.Fatalf("upgrade to a crashing version: task %+v, want failed with a message", task)
	}
	list, _ := m.List(ctx, tenant, 1, 10)
	if list.Total != 1 || list.List[0].PluginUniqueIdentifier != v1 || list.List[0].Version != "0.0.1" {
		t.Fatalf("after the failed upgrade: %+v, want %s still installed", list.List, v1)
	}
	if err := syscall.Kill(before.List[0].Runtime.PID, 0); err != nil {
		t.Errorf("the old version's process (pid %d) is gone: %v", before.List[0].Runtime.PID, err)
	}
	if !exists(workDir(t, dir, v1)) {
		t.Error("the old version's working dir was removed")
	}
	MustEcho(t, m)
}
