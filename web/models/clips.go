package models

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/web/page"
)

// The TTS tryout's audio is kept in memory for its player, which the page's
// policy lets load only from the app itself (no data: URLs): recent clips,
// each for the user who made it, for clipTTL, at most maxClips and
// maxClipBytes in all (the oldest go first).
const (
	clipTTL      = 30 * time.Minute
	maxClips     = 32
	maxClipBytes = 64 << 20
)

// clip is one TTS answer.
type clip struct {
	id, owner, mime string
	audio           []byte
	made            time.Time
}

// clips holds the recent clips, oldest first. It runs no goroutine: the
// expired are dropped whenever a clip is added or read.
type clips struct {
	mu   sync.Mutex
	list []*clip
	now  func() time.Time
}

// add keeps audio for owner and returns its id.
func (cs *clips) add(owner, mime string, audio []byte) string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand never fails on Linux
	c := &clip{id: hex.EncodeToString(b), owner: owner, mime: mime, audio: audio, made: cs.now()}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.list = append(cs.list, c)
	cs.sweep()
	return c.id
}

// get is owner's clip id, nil when there is none (or it expired).
func (cs *clips) get(owner, id string) *clip {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.sweep()
	for _, c := range cs.list {
		if c.id == id && c.owner == owner {
			return c
		}
	}
	return nil
}

// sweep drops the expired clips, then the oldest past the bounds.
func (cs *clips) sweep() {
	total, cut := 0, 0
	for i, c := range cs.list {
		if cs.now().Sub(c.made) > clipTTL {
			cut = i + 1
		}
	}
	for _, c := range cs.list[cut:] {
		total += len(c.audio)
	}
	for len(cs.list)-cut > maxClips || (total > maxClipBytes && len(cs.list)-cut > 1) {
		total -= len(cs.list[cut].audio)
		cut++
	}
	clear(cs.list[:cut])
	cs.list = cs.list[cut:]
}

// clipPath is where a clip's audio is served.
func clipPath(id string) string { return "/models/try/tts/audio/" + id }

// serveClip answers the signed-in user's clip, with range requests (a
// player seeks), as audio only: any other type the plugin claimed is sent
// as bytes to download, and the answer may run nothing.
func (h *Handlers) serveClip(c echo.Context) error {
	cl := h.clips.get(page.Actor(c), c.Param("id"))
	if cl == nil {
		return plugboard.Errorf(plugboard.ENOTFOUND, "This audio is gone: clips are kept for %v. Speak the text again.", clipTTL)
	}
	hdr := c.Response().Header()
	hdr.Set("Content-Type", "application/octet-stream")
	if strings.HasPrefix(cl.mime, "audio/") {
		hdr.Set("Content-Type", cl.mime)
	}
	hdr.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	hdr.Set("Cache-Control", "private, max-age=1800")
	http.ServeContent(c.Response(), c.Request(), "", cl.made, bytes.NewReader(cl.audio))
	return nil
}
