// Package e2e holds the admin app's browser tests: they start the real
// plugboard binary (`plugboard serve` on 127.0.0.1:0 with the embedded
// daemon and a temporary data directory) and drive Debian's Chromium with
// chromedp. The package has no code of its own.
package e2e
