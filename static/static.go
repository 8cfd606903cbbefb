// Package static embeds the admin app's static assets: the vendored htmx and
// its SSE extension (pinned, with their sha256 in vendor/SHA256SUMS), CSS and
// icons.
package static

import "embed"

// FS holds every static file, served under /static/.
//
//go:embed vendor css js img
var FS embed.FS
