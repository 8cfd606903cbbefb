package marketplace

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/pkgfmt"
	"github.com/plugboard/plugboard/daemon/versions"
)

// Server serves the marketplace API from a folder of .difypkg files. The
// index is built from the packages' manifests and rebuilt when the folder's
// files change; several versions of one plugin may sit side by side.
type Server struct {
	dir string
	mux *http.ServeMux

	mu    sync.Mutex
	cache map[string]cachedPackage // by path
}

// cachedPackage is one decoded file, kept until its size or time changes.
type cachedPackage struct {
	mod  time.Time
	size int64
	pkg  *decl
}

// decl is what the index keeps of a package: its identifier, manifest and
// icon. A download reads the file again, so the server does not hold every
// package's bytes.
type decl struct {
	ID       plugboard.Identifier
	Manifest *plugboard.Manifest
	icon     []byte
	iconErr  error
}

// entry is one package of the index.
type entry struct {
	path string
	pkg  *decl
	mod  time.Time
}

// NewServer returns a marketplace serving the packages in dir.
func NewServer(dir string) *Server {
	s := &Server{dir: dir, mux: http.NewServeMux(), cache: map[string]cachedPackage{}}
	s.mux.HandleFunc("POST /api/v1/plugins/batch", s.batch)
	s.mux.HandleFunc("GET /api/v1/plugins", s.search)
	s.mux.HandleFunc("GET /api/v1/plugins/{author}/{name}/versions", s.versions)
	s.mux.HandleFunc("GET /api/v1/plugins/{author}/{name}/{version}/download", s.download)
	s.mux.HandleFunc("GET /api/v1/plugins/{author}/{name}/{version}/icon", s.icon)
	return s
}

// ServeHTTP serves the API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// index decodes every package in the folder (from the cache when the file
// is unchanged); a file that is not a valid package is skipped.
func (s *Server) index() ([]entry, error) {
	paths, err := filepath.Glob(filepath.Join(s.dir, "*.difypkg"))
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []entry
	for _, p := range paths {
		if pkg, mod, ok := s.load(p); ok {
			out = append(out, entry{path: p, pkg: pkg, mod: mod})
		}
	}
	return out, nil
}

func (s *Server) load(p string) (*decl, time.Time, bool) {
	fi, err := os.Stat(p)
	if err != nil || !fi.Mode().IsRegular() {
		return nil, time.Time{}, false
	}
	if c, ok := s.cache[p]; ok && c.mod.Equal(fi.ModTime()) && c.size == fi.Size() {
		return c.pkg, c.mod, c.pkg != nil
	}
	var pkg *decl
	if data, err := os.ReadFile(p); err == nil {
		if full, err := pkgfmt.Decode(data, pkgfmt.DefaultLimits()); err == nil {
			pkg = &decl{ID: full.ID, Manifest: full.Manifest}
			pkg.icon, pkg.iconErr = full.Asset(full.Manifest.Icon)
		}
	}
	s.cache[p] = cachedPackage{mod: fi.ModTime(), size: fi.Size(), pkg: pkg}
	return pkg, fi.ModTime(), pkg != nil
}

// plugins groups the index by plugin id, each with its versions newest
// first, sorted by id.
func (s *Server) plugins() ([]Plugin, error) {
	idx, err := s.index()
	if err != nil {
		return nil, err
	}
	byID := map[string][]entry{}
	for _, e := range idx {
		byID[e.pkg.Manifest.PluginID()] = append(byID[e.pkg.Manifest.PluginID()], e)
	}
	out := make([]Plugin, 0, len(byID))
	for _, es := range byID {
		out = append(out, describe(es))
	}
	slices.SortFunc(out, func(a, b Plugin) int { return strings.Compare(a.PluginID, b.PluginID) })
	return out, nil
}

// describe makes one plugin from its packages: the metadata of the newest.
func describe(es []entry) Plugin {
	slices.SortFunc(es, func(a, b entry) int {
		return versions.Compare(b.pkg.Manifest.Version, a.pkg.Manifest.Version)
	})
	m := es[0].pkg.Manifest
	p := Plugin{
		PluginID: m.PluginID(), Author: m.Author, Name: m.Name,
		Label: orDefault(m.Label.English(), m.Name), Description: m.Description.English(),
		Category: m.Category(), Tags: m.Tags, Status: "active", Icon: m.Icon,
		LatestVersion: m.Version, LatestPackageIdentifier: es[0].pkg.ID.String(),
	}
	for _, e := range es {
		if len(p.Versions) > 0 && p.Versions[len(p.Versions)-1].Version == e.pkg.Manifest.Version {
			continue // the same version twice: the first (newest file) wins
		}
		p.Versions = append(p.Versions, Version{Version: e.pkg.Manifest.Version, UniqueIdentifier: e.pkg.ID.String(), CreatedAt: e.mod.UTC()})
	}
	return p
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// find returns the plugin with id ("" Plugin and false when absent).
func (s *Server) find(id string) (Plugin, bool, error) {
	all, err := s.plugins()
	if err != nil {
		return Plugin{}, false, err
	}
	for _, p := range all {
		if p.PluginID == id {
			return p, true, nil
		}
	}
	return Plugin{}, false, nil
}

// batch answers the latest version of each plugin asked for; unknown ids
// are left out, as Dify's marketplace does.
func (s *Server) batch(w http.ResponseWriter, r *http.Request) {
	var req batchRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil {
		fail(w, http.StatusBadRequest, "the body must be {\"plugin_ids\": [...]}: "+err.Error())
		return
	}
	all, err := s.plugins()
	if err != nil {
		fail(w, http.StatusInternalServerError, err.Error())
		return
	}
	out := []Plugin{}
	for _, p := range all {
		if slices.Contains(req.PluginIDs, p.PluginID) {
			p.Versions = nil
			out = append(out, p)
		}
	}
	ok(w, pluginsData{Plugins: out})
}

// search answers the plugins matching q, category and tag.
func (s *Server) search(w http.ResponseWriter, r *http.Request) {
	all, err := s.plugins()
	if err != nil {
		fail(w, http.StatusInternalServerError, err.Error())
		return
	}
	q := Query{Q: r.URL.Query().Get("q"), Category: r.URL.Query().Get("category"), Tag: r.URL.Query().Get("tag")}
	out := []Plugin{}
	for _, p := range all {
		if matches(p, q) {
			out = append(out, p)
		}
	}
	ok(w, pluginsData{Plugins: out})
}

// matches reports whether p passes every part of q.
func matches(p Plugin, q Query) bool {
	if q.Category != "" && p.Category != q.Category {
		return false
	}
	if q.Tag != "" && !slices.Contains(p.Tags, q.Tag) {
		return false
	}
	text := strings.ToLower(p.PluginID + " " + p.Label + " " + p.Description)
	for _, w := range strings.Fields(strings.ToLower(q.Q)) {
		if !strings.Contains(text, w) {
			return false
		}
	}
	return true
}

// versions answers a plugin's versions, newest first.
func (s *Server) versions(w http.ResponseWriter, r *http.Request) {
	p, found, err := s.find(r.PathValue("author") + "/" + r.PathValue("name"))
	switch {
	case err != nil:
		fail(w, http.StatusInternalServerError, err.Error())
	case !found:
		fail(w, http.StatusNotFound, "no plugin "+r.PathValue("author")+"/"+r.PathValue("name"))
	default:
		ok(w, versionsData{Versions: p.Versions})
	}
}

// download answers the package file of one version.
func (s *Server) download(w http.ResponseWriter, r *http.Request) {
	e, ok := s.version(w, r)
	if !ok {
		return
	}
	data, err := os.ReadFile(e.path)
	if err != nil {
		fail(w, http.StatusNotFound, "the package file of "+e.pkg.ID.String()+" is gone: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", filepath.Base(e.path)))
	_, _ = w.Write(data)
}

// icon answers the icon of one version, as the package's _assets holds it.
func (s *Server) icon(w http.ResponseWriter, r *http.Request) {
	e, ok := s.version(w, r)
	if !ok {
		return
	}
	name, data, err := e.pkg.Manifest.Icon, e.pkg.icon, e.pkg.iconErr
	if name == "" || err != nil {
		fail(w, http.StatusNotFound, "no icon in "+e.pkg.ID.String())
		return
	}
	ctype := mime.TypeByExtension(path.Ext(name))
	if !strings.HasPrefix(ctype, "image/") {
		fail(w, http.StatusNotFound, "the icon of "+e.pkg.ID.String()+" is not an image")
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(data)
}

// version finds the package of the route's plugin and version, answering
// 404 when there is none.
func (s *Server) version(w http.ResponseWriter, r *http.Request) (entry, bool) {
	id, version := r.PathValue("author")+"/"+r.PathValue("name"), r.PathValue("version")
	idx, err := s.index()
	if err != nil {
		fail(w, http.StatusInternalServerError, err.Error())
		return entry{}, false
	}
	for _, e := range idx {
		if e.pkg.Manifest.PluginID() == id && e.pkg.Manifest.Version == version {
			return e, true
		}
	}
	fail(w, http.StatusNotFound, "no version "+version+" of "+id)
	return entry{}, false
}

func ok(w http.ResponseWriter, data any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(envelope[any]{Code: 0, Msg: "success", Data: data})
}

func fail(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(envelope[any]{Code: -1, Msg: msg})
}
