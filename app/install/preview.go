package install

import (
	"bytes"
	"context"
	"net/url"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/app/github"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/pkgfmt"
	"github.com/plugboard/plugboard/daemon/signature"
	"github.com/plugboard/plugboard/store"
)

// Preview is a package stored in the daemon, not installed yet: what the
// install preview shows, and what installing it needs.
type Preview struct {
	Upload *apispec.UploadResult
	// Verdict is the package's signature; zero when the bytes were not a
	// zip (the daemon refused them then, so a Preview never has it).
	Verdict signature.Verdict
	// Source is where the package came from, for Install to record.
	Source Source
	// Installed is the installation of the same plugin, nil when there is
	// none: installing the package then upgrades (or downgrades) it.
	Installed *apispec.Installation
}

// Package is a package's bytes as fetched from its source, not checked
// or stored yet.
type Package struct {
	// Name is the package's file name, as the user knows it.
	Name   string
	Data   []byte
	Source Source
}

// Preview checks a package against the signature policy and stores it in
// the daemon (not installing it), recording the signature's verdict for
// the package's card and its install. Every source ends here.
func (s *Service) Preview(ctx context.Context, u *store.User, p Package) (*Preview, error) {
	if err := s.MayInstall(ctx, u); err != nil {
		return nil, err
	}
	return s.preview(ctx, p.Name, p.Data, p.Source)
}

// Choice returns the choice of installing the previewed package over the
// installed version, if any, without confirming a code change.
func (p *Preview) Choice() Choice {
	ch := Choice{UID: p.Upload.UniqueIdentifier, Source: p.Source}
	if p.Installed != nil {
		ch.Original = p.Installed.PluginUniqueIdentifier
	}
	return ch
}

func (s *Service) preview(ctx context.Context, name string, data []byte, src Source) (*Preview, error) {
	vd, readable, err := s.Screen(ctx, data, src.Kind)
	if err != nil {
		return nil, err
	}
	up, err := s.daemon.UploadPackage(ctx, name, bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	if readable {
		if err := s.recordVerdict(ctx, up.UniqueIdentifier, vd, src.Kind); err != nil {
			return nil, err
		}
	}
	p := &Preview{Upload: up, Verdict: vd, Source: src}
	if in, err := s.Installation(ctx, up.Manifest.PluginID()); err == nil {
		p.Installed = in
	}
	return p, nil
}

// FetchMarketplace downloads one version of a plugin from the
// marketplace, to Preview with the marketplace as its source.
func (s *Service) FetchMarketplace(ctx context.Context, u *store.User, pluginID, version string) (*Package, error) {
	if err := s.MayInstall(ctx, u); err != nil {
		return nil, err
	}
	if s.market == nil {
		return nil, ErrNoMarketplace
	}
	pkg, err := s.market.Download(ctx, pluginID, version)
	if err != nil {
		return nil, err
	}
	return &Package{
		Name: url.PathEscape(pkg.Manifest.Name) + "-" + pkg.Manifest.Version + ".difypkg",
		Data: pkg.Raw,
		Source: Source{
			Kind: SourceMarketplace,
			Meta: map[string]any{"plugin_unique_identifier": pkg.ID.String()},
		},
	}, nil
}

// ErrNoMarketplace is the error of a marketplace action when none is
// configured.
var ErrNoMarketplace = plugboard.Errorf(plugboard.EUNAVAILABLE, "No marketplace is configured (set --marketplace-url, or --examples for the built-in one).")

// GitHubAsset names one package asset of a GitHub release.
type GitHubAsset struct {
	Repo github.Repo
	// Tag is the release's tag, Name the asset's file name.
	Tag, Name string
	// Upgrade is the plugin id the asset is to upgrade ("" for a new
	// install): the package must be that plugin.
	Upgrade string
}

// FetchGitHub downloads a release's package asset, to Preview with the
// source (repo, version, package) recorded for the installation.
func (s *Service) FetchGitHub(ctx context.Context, u *store.User, a GitHubAsset) (*Package, error) {
	if err := s.MayInstall(ctx, u); err != nil {
		return nil, err
	}
	data, err := s.downloadAsset(ctx, a)
	if err != nil {
		return nil, plugboard.Errorf(plugboard.EINVALID, "%s", s.GitHubProblem(err))
	}
	if err := checkClaimedPlugin(data, a.Upgrade); err != nil {
		return nil, err
	}
	src := Source{Kind: SourceGitHub, Meta: map[string]any{"repo": a.Repo.String(), "version": a.Tag, "package": a.Name}}
	return &Package{Name: a.Name, Data: data, Source: src}, nil
}

// downloadAsset finds the asset in the release and downloads it.
func (s *Service) downloadAsset(ctx context.Context, a GitHubAsset) ([]byte, error) {
	if s.github == nil {
		return nil, plugboard.Errorf(plugboard.EUNAVAILABLE, "Installing from GitHub is not configured.")
	}
	gh, err := s.github(ctx)
	if err != nil {
		return nil, err
	}
	asset, err := gh.Package(ctx, a.Repo, a.Tag, a.Name)
	if err != nil {
		return nil, err
	}
	return gh.Download(ctx, asset)
}

// GitHubProblem words a failure to reach GitHub for a user: ours as they
// are, others logged and summarised.
func (s *Service) GitHubProblem(err error) string {
	if plugboard.ErrorCode(err) == plugboard.EINTERNAL {
		s.log.Warn("github", "err", err)
		return "Could not reach GitHub: internal error."
	}
	return plugboard.ErrorMessage(err)
}

// checkClaimedPlugin is the rule for a package whose manifest differs from
// what the source claims: an upgrade of plugin X must carry plugin X. (A
// new install shows the manifest's plugin id in the preview.) A package
// that does not decode is left to the daemon to explain.
func checkClaimedPlugin(data []byte, want string) error {
	if want == "" {
		return nil
	}
	pkg, err := pkgfmt.Decode(data, pkgfmt.DefaultLimits())
	if err != nil {
		return nil
	}
	if got := pkg.Manifest.PluginID(); got != want {
		return plugboard.Errorf(plugboard.EINVALID, "This package is the plugin %s, not %s: it cannot upgrade %s.", got, want, want)
	}
	return nil
}
