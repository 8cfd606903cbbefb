package install

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"strings"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/store"
)

// Choice is what a user chose to install: a stored package, the installed
// version it replaces ("" for none), whether they confirmed replacing the
// code of the same version, and the package's source.
type Choice struct {
	UID, Original     string
	ConfirmCodeChange bool
	Source            Source
}

// Started is an install or upgrade the daemon took on.
type Started struct {
	PluginID string
	// TaskID is the daemon's install task, which the service follows to
	// audit how it ends; "" when AlreadyInstalled.
	TaskID string
	// AlreadyInstalled is true when the package was installed already:
	// there is nothing to do and no task.
	AlreadyInstalled bool
}

// Install starts installing a stored package, or, with Original, upgrading
// that installation to it, after applying the signature policy again
// (with the verdict and source recorded at the preview). Every outcome is
// audited: refused, failed, already installed, or started (and then how
// the task ends).
func (s *Service) Install(ctx context.Context, u *store.User, ch Choice) (*Started, error) {
	if err := s.MayInstall(ctx, u); err != nil {
		return nil, err
	}
	id, err := plugboard.ParseIdentifier(ch.UID)
	if err != nil {
		return nil, plugboard.Errorf(plugboard.EINVALID, "No package to install: upload one first.")
	}
	who, action := username(u), store.AuditPluginInstall
	if ch.Original != "" && ch.Original != ch.UID {
		action = store.AuditPluginUpgrade
	}
	if err := s.checkPolicy(ctx, ch.UID, ch.Source.Kind); err != nil {
		s.audit(ctx, who, action, id.PluginID(), plugboard.ErrorMessage(err), store.OutcomeRefused)
		return nil, err
	}
	res, err := s.start(ctx, action, ch)
	if err != nil {
		s.audit(ctx, who, action, id.PluginID(), failureMessage(err), store.OutcomeFailure)
		return nil, err
	}
	if res.AllInstalled {
		s.audit(ctx, who, action, id.PluginID(), "already installed: "+ch.UID, store.OutcomeSuccess)
		return &Started{PluginID: id.PluginID(), AlreadyInstalled: true}, nil
	}
	s.audit(ctx, who, action, id.PluginID(), "task "+res.TaskID+" from "+ch.Source.Kind, store.OutcomeStarted)
	s.tasks.follow(ctx, auditedTask{id: res.TaskID, actor: who, action: action, target: id.PluginID()}, s.log)
	return &Started{PluginID: id.PluginID(), TaskID: res.TaskID}, nil
}

// start asks the daemon to install or upgrade.
func (s *Service) start(ctx context.Context, action string, ch Choice) (*apispec.InstallResult, error) {
	if action == store.AuditPluginUpgrade {
		return s.daemon.Upgrade(ctx, apispec.UpgradeRequest{
			OriginalPluginUniqueIdentifier: ch.Original, NewPluginUniqueIdentifier: ch.UID,
			Source: ch.Source.Kind, Meta: ch.Source.meta(), ConfirmCodeChange: ch.ConfirmCodeChange,
		})
	}
	return s.daemon.Install(ctx, []string{ch.UID}, ch.Source.Kind, []map[string]any{ch.Source.meta()})
}

// Uninstalled is a plugin that was uninstalled.
type Uninstalled struct {
	Installation apispec.Installation
	// CredentialsDeleted counts the stored credentials deleted with it.
	CredentialsDeleted int
}

// Uninstall removes an installed plugin ("author/name"), audited, and with
// deleteCredentials (admins only) its stored credentials too; otherwise
// they are kept for a reinstall.
func (s *Service) Uninstall(ctx context.Context, u *store.User, pluginID string, deleteCredentials bool) (*Uninstalled, error) {
	if err := s.MayInstall(ctx, u); err != nil {
		return nil, err
	}
	in, err := s.Installation(ctx, pluginID)
	if plugboard.ErrorCode(err) == plugboard.ENOTFOUND {
		return nil, plugboard.Errorf(plugboard.ENOTFOUND, "The plugin %s is not installed.", pluginID)
	} else if err != nil {
		return nil, err
	}
	if deleteCredentials && !u.Role.AtLeast(store.RoleAdmin) {
		return nil, plugboard.Errorf(plugboard.EFORBIDDEN, "Only admins may delete credentials.")
	}
	if err := s.daemon.Uninstall(ctx, in.InstallationID); err != nil {
		s.audit(ctx, u.Username, store.AuditPluginUninstall, in.PluginID, failureMessage(err), store.OutcomeFailure)
		return nil, err
	}
	s.audit(ctx, u.Username, store.AuditPluginUninstall, in.PluginID, "version "+in.Version, store.OutcomeSuccess)
	if name, ok := strings.CutPrefix(in.PluginID, "mcp/"); ok && in.Source == "mcp" {
		// An MCP server's sealed secrets (headers, environment) go with it.
		if err := s.store.DeleteMCPServer(ctx, name); err != nil {
			return nil, err
		}
	}
	out := &Uninstalled{Installation: *in}
	if deleteCredentials {
		if out.CredentialsDeleted, err = s.store.DeleteCredentialsForPlugin(ctx, u.Username, in.PluginID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// UpgradeFromMarketplace downloads a version from the marketplace and
// starts upgrading the installation to it: the same signature check and
// policy, upload and daemon upgrade as a version picked by hand, without
// the preview. It is for the auto-upgrade scheduler, which acts on the
// setting an installer saved and audits the outcome itself.
func (s *Service) UpgradeFromMarketplace(ctx context.Context, in *apispec.Installation, version string) error {
	if s.market == nil {
		return ErrNoMarketplace
	}
	pkg, err := s.market.Download(ctx, in.PluginID, version)
	if err != nil {
		return err
	}
	vd, readable, err := s.Screen(ctx, pkg.Raw, SourceMarketplace)
	if err != nil {
		return err
	}
	if !readable {
		return plugboard.Errorf(plugboard.EINVALID, "the marketplace's package of %s %s is not a plugin package", in.PluginID, version)
	}
	up, err := s.daemon.UploadPackage(ctx, pkg.Manifest.Name+"-"+version+".difypkg", bytes.NewReader(pkg.Raw))
	if err != nil {
		return err
	}
	if err := s.recordVerdict(ctx, up.UniqueIdentifier, vd, SourceMarketplace); err != nil {
		return err
	}
	_, err = s.daemon.Upgrade(ctx, apispec.UpgradeRequest{
		OriginalPluginUniqueIdentifier: in.PluginUniqueIdentifier, NewPluginUniqueIdentifier: up.UniqueIdentifier,
		Source: SourceMarketplace, Meta: map[string]any{"plugin_unique_identifier": up.UniqueIdentifier},
	})
	return err
}

// failureMessage words a failed daemon call for the user and the audit
// log: the daemon's reason, or why it could not be reached.
func failureMessage(err error) string {
	if plugboard.ErrorCode(err) != plugboard.EINTERNAL {
		return plugboard.ErrorMessage(err)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return "The daemon did not answer: no answer in time."
		}
		err = ue.Err
	}
	return "The daemon did not answer: " + err.Error() + "."
}
