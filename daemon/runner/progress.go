package runner

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/plugboard/plugboard"
)

// progress turns pip's and uv's output into a one-line account of what the
// install is doing, and remembers the latest for a timeout's message.
type progress struct {
	report func(string)

	mu     sync.Mutex
	listed []string        // the package's own requirements, in order
	seen   map[string]bool // projects collected so far
	detail string
}

// Lines of pip's and uv's output that tell progress.
var (
	collectingRe  = regexp.MustCompile(`^Collecting ([A-Za-z0-9][A-Za-z0-9._-]*)`)
	processingRe  = regexp.MustCompile(`^Processing \S*?([A-Za-z0-9][A-Za-z0-9._]*)-[0-9][^/\s]*\.(?:whl|tar\.gz|zip)`)
	downloadingRe = regexp.MustCompile(`^\s*Downloading (\S+)(?: \(([^)]+)\))?`)
	buildingRe    = regexp.MustCompile(`^\s*Building wheel for ([A-Za-z0-9][A-Za-z0-9._-]*)`)
	installingRe  = regexp.MustCompile(`^Installing collected packages: (.+)$`)
	uvCountRe     = regexp.MustCompile(`^(Resolved|Prepared|Installed|Audited) (\d+) packages?`)
)

// set reports detail when it changed.
func (p *progress) set(detail string) {
	p.mu.Lock()
	changed := detail != p.detail
	p.detail = detail
	p.mu.Unlock()
	if changed && p.report != nil {
		p.report(detail)
	}
}

// last is the latest detail.
func (p *progress) last() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.detail
}

// start says which requirement is looked up first, and where.
func (p *progress) start(listed []string, where string) {
	p.mu.Lock()
	p.listed, p.seen = listed, map[string]bool{}
	p.mu.Unlock()
	if len(listed) == 0 {
		p.set("installing dependencies from " + where)
		return
	}
	p.set(fmt.Sprintf("looking up %s (1 of %d) in %s", listed[0], len(listed), where))
}

// line reads one line of output.
func (p *progress) line(l string) {
	if m := collectingRe.FindStringSubmatch(l); m != nil {
		p.collected(m[1])
	} else if m := processingRe.FindStringSubmatch(l); m != nil {
		p.collected(m[1])
	} else if m := downloadingRe.FindStringSubmatch(l); m != nil {
		p.set("downloading " + filepath.Base(m[1]) + sizeNote(m[2]))
	} else if m := buildingRe.FindStringSubmatch(l); m != nil {
		p.set("building " + m[1] + " from source")
	} else if m := installingRe.FindStringSubmatch(l); m != nil {
		names := strings.Split(m[1], ", ")
		p.set(fmt.Sprintf("installing %s: %s", packages(len(names)), shortList(names, 5)))
	} else if m := uvCountRe.FindStringSubmatch(l); m != nil {
		n, _ := strconv.Atoi(m[2])
		p.set(strings.ToLower(m[1]) + " " + packages(n))
	}
}

// collected notes that the installer reached project name.
func (p *progress) collected(name string) {
	p.mu.Lock()
	if p.seen == nil {
		p.seen = map[string]bool{}
	}
	p.seen[normalName(name)] = true
	n := len(p.seen)
	i := slices.IndexFunc(p.listed, func(s string) bool { return normalName(s) == normalName(name) })
	total := len(p.listed)
	p.mu.Unlock()
	if i >= 0 {
		p.set(fmt.Sprintf("collecting %s (%d of %d)", name, i+1, total))
		return
	}
	p.set(fmt.Sprintf("collecting %s (a dependency; %s so far)", name, packages(n)))
}

// normalName is a project name as PEP 503 compares them.
func normalName(s string) string {
	return strings.ToLower(separatorsRe.ReplaceAllString(s, "-"))
}

var separatorsRe = regexp.MustCompile(`[-_.]+`)

// packages is "1 package", "3 packages".
func packages(n int) string {
	if n == 1 {
		return "1 package"
	}
	return strconv.Itoa(n) + " packages"
}

func sizeNote(size string) string {
	if size == "" {
		return ""
	}
	return " (" + size + ")"
}

func shortList(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:n], ", ") + " …"
}

// Where an admin configures sources and limits, for messages.
const (
	findLinksHint = "a shared wheel folder (--python-find-links, PLUGBOARD_PYTHON_FIND_LINKS)"
	indexHint     = "a package index (--python-index-url, PLUGBOARD_PYTHON_INDEX_URL)"
	timeoutHint   = "--python-env-timeout (PLUGBOARD_PYTHON_ENV_TIMEOUT)"
)

// explain turns a failed build into one sentence for the task: what failed
// and what to do. The tools' full output is already in the log.
func (b *builder) explain(err error, limit time.Duration) error {
	var te *toolError
	switch {
	case errors.Is(err, errEnvTimeout):
		return plugboard.Errorf(plugboard.ETIMEOUT,
			"The Python environment was not ready within %s (it was %s): make sure %s can be reached, ship the dependencies in the package's wheels/ folder or %s, or raise %s; the output so far is in the plugin's log",
			limit, b.prog.last(), b.src.describe(), findLinksHint, timeoutHint)
	case !errors.As(err, &te):
		return err
	case te.what == "pip install" || te.what == "uv pip install" || te.what == "uv sync":
		return b.dependencyFailure(te)
	}
	return plugboard.Errorf(plugboard.EINVALID, "Creating the Python %s environment with %s failed (%s); %s's full output is in the plugin's log",
		b.python.Version, b.python.Path, firstErrorLine(te.tail), te.what)
}

// Lines of pip's and uv's output that tell why an install failed.
var (
	notFoundRe   = regexp.MustCompile(`(?:Could not find a version that satisfies the requirement|No matching distribution found for) (\S+)`)
	uvNotFoundRe = regexp.MustCompile(`Because (\S+?) was not found in the (?:package registry|provided package locations)|Because there (?:is|are) no versions? of ([A-Za-z0-9][A-Za-z0-9._-]*)`)
	buildFailRe  = regexp.MustCompile(`(?:Failed building wheel for|Failed to build|Could not build wheels for) [\x60'"]?([A-Za-z0-9][A-Za-z0-9._-]*)`)
	conflictRe   = regexp.MustCompile(`Cannot install (.+?) because these package versions have conflicting dependencies|ResolutionImpossible|No solution found when resolving`)
	invalidReqRe = regexp.MustCompile(`Invalid requirement: '?([^'\n]+)'?`)
	networkRe    = regexp.MustCompile(`Retrying \(Retry\(|NewConnectionError|Max retries exceeded|Connection refused|Temporary failure in name resolution|Network is unreachable|Read timed out|Failed to fetch`)
	errorLineRe  = regexp.MustCompile(`(?m)^\s*(?:ERROR|error|×): *(.+)$`)
)

// dependencyFailure names the requirement that failed and what to do.
func (b *builder) dependencyFailure(te *toolError) error {
	out := te.tail
	where := b.src.describe()
	full := fmt.Sprintf("%s's full output is in the plugin's log", b.tool)
	remedy := fmt.Sprintf("ship it in the package's wheels/ folder, put it in %s, or set %s", findLinksHint, indexHint)
	if m := invalidReqRe.FindStringSubmatch(out); m != nil {
		return plugboard.Errorf(plugboard.EINVALID, "The package's requirement %q is not valid; only its author can fix it (%s)", m[1], full)
	}
	if m := buildFailRe.FindStringSubmatch(out); m != nil {
		return plugboard.Errorf(plugboard.EINVALID, "Dependency %s has no wheel for Python %s here and could not be built from source: ship a prebuilt wheel of it in the package's wheels/ folder or in %s; %s",
			m[1], b.python.Version, findLinksHint, full)
	}
	req := ""
	if m := notFoundRe.FindStringSubmatch(out); m != nil {
		req = m[1]
	} else if m := uvNotFoundRe.FindStringSubmatch(out); m != nil {
		req = m[1] + m[2]
	}
	switch {
	case req != "" && networkRe.MatchString(out):
		return plugboard.Errorf(plugboard.EINVALID, "Dependency %s could not be installed because %s could not be reached: %s; %s", req, where, remedy, full)
	case req != "":
		return plugboard.Errorf(plugboard.EINVALID, "Dependency %s could not be installed: no matching version in %s; %s; %s", req, where, remedy, full)
	case conflictRe.MatchString(out):
		return plugboard.Errorf(plugboard.EINVALID, "The package's dependencies conflict with each other (%s); only its author can fix that (%s)", firstErrorLine(out), full)
	}
	return plugboard.Errorf(plugboard.EINVALID, "Installing the package's dependencies from %s failed (%s): ship them in the package's wheels/ folder, put them in %s, or set %s; %s",
		where, firstErrorLine(out), findLinksHint, indexHint, full)
}

// firstErrorLine is the first "ERROR: …" line of out, else its last line.
func firstErrorLine(out string) string {
	if m := errorLineRe.FindStringSubmatch(out); m != nil {
		return truncate(strings.TrimSpace(m[1]), 300)
	}
	return truncate(lastLines(out, 1), 300)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// redactURL hides a password in u.
func redactURL(u string) string {
	if p, err := url.Parse(u); err == nil && p.User != nil {
		return p.Redacted()
	}
	return u
}
