// Package marketplace speaks a plugin marketplace's HTTP API in Dify's
// shape: the latest versions of plugins in a batch
// (POST /api/v1/plugins/batch), a package download
// (GET /api/v1/plugins/{author}/{name}/{version}/download), and, for
// browsing, a search (GET /api/v1/plugins?q=&category=&tag=) and a plugin's
// versions (GET /api/v1/plugins/{author}/{name}/versions).
//
// Client calls a marketplace; Server serves one from a folder of .difypkg
// files, its index built from their manifests.
package marketplace

import (
	"time"

	"github.com/plugboard/plugboard/daemon/versions"
)

// MaxPackage is the largest package a download accepts (Dify's 15 MiB).
const MaxPackage = 15 << 20

// Plugin is one plugin of the marketplace, described by its latest version.
type Plugin struct {
	PluginID                string    `json:"plugin_id"`
	Author                  string    `json:"author"`
	Name                    string    `json:"name"`
	Label                   string    `json:"label"`
	Description             string    `json:"description"`
	Category                string    `json:"category"`
	Tags                    []string  `json:"tags"`
	Icon                    string    `json:"icon,omitempty"` // file name; "" when none
	LatestVersion           string    `json:"latest_version"`
	LatestPackageIdentifier string    `json:"latest_package_identifier"`
	Status                  string    `json:"status"` // "active"
	Versions                []Version `json:"versions,omitempty"`
}

// Version is one published version of a plugin.
type Version struct {
	Version          string    `json:"version"`
	UniqueIdentifier string    `json:"unique_identifier"`
	CreatedAt        time.Time `json:"created_at"`
}

// Query narrows a search: words in the id, label or description, a
// category and a tag ("" for any).
type Query struct {
	Q, Category, Tag string
}

// envelope is the marketplace's answer wrapper, as Dify's: code 0 is
// success, msg says what went wrong otherwise.
type envelope[T any] struct {
	Code int    `json:"code"`
	Msg  string `json:"msg"`
	Data T      `json:"data"`
}

// pluginsData is the data of the batch and search answers.
type pluginsData struct {
	Plugins []Plugin `json:"plugins"`
}

// versionsData is the data of the versions answer.
type versionsData struct {
	Versions []Version `json:"versions"`
}

// batchRequest is the body of the batch call.
type batchRequest struct {
	PluginIDs []string `json:"plugin_ids"`
}

// Auto-upgrade strategies PickVersion knows (the store's names).
const (
	StrategyPatch  = "patch"
	StrategyLatest = "latest"
)

// PickVersion chooses the version an auto-upgrade moves installed to:
// under "patch", the newest with the same major.minor and a higher patch;
// under "latest", the newest higher version. "" when there is none, or for
// any other strategy. Pre-releases are never picked.
func PickVersion(strategy, installed string, available []string) string {
	best := ""
	for _, v := range available {
		if versions.Prerelease(v) || versions.Compare(v, installed) <= 0 {
			continue
		}
		if strategy == StrategyPatch && versions.MajorMinor(v) != versions.MajorMinor(installed) {
			continue
		}
		if strategy != StrategyPatch && strategy != StrategyLatest {
			return ""
		}
		if best == "" || versions.Compare(v, best) > 0 {
			best = v
		}
	}
	return best
}
