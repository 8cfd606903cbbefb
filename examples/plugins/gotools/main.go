// Command gotools is the example Go plugin: tools written with the SDK that
// stream text, echo JSON, render a PNG, describe a file, check a credential,
// count their own invocations and crash on purpose.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"log"
	"math"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/plugboard/plugboard/sdk"
)

const provider = "gotools"

// handlers are the provider's tools by name.
var handlers = map[string]sdk.Handler{
	"stream_text": streamText,
	"json_echo":   jsonEcho,
	"render_png":  renderPNG,
	"whoami":      whoami,
	"crash":       crash,
	"file_info":   fileInfo,
}

func main() {
	p := sdk.New()
	inv := invocations{}
	for name, h := range handlers {
		p.Tool(provider, name, inv.counted(name, h))
	}
	p.Tool(provider, "stats", inv.counted("stats", inv.stats))
	p.ValidateCredentials(provider, func(ctx context.Context, c sdk.Credentials) error {
		return checkAPIKey(c.String("api_key"))
	})
	log.Fatal(p.Run())
}

// invocations counts each tool's calls in this process. Its keys are fixed
// before the plugin runs, so only the counters change concurrently.
type invocations map[string]*atomic.Int64

// counted registers name and returns h wrapped to count each of its calls.
func (inv invocations) counted(name string, h sdk.Handler) sdk.Handler {
	n := new(atomic.Int64)
	inv[name] = n
	return func(ctx context.Context, req *sdk.Request, w *sdk.Writer) error {
		n.Add(1)
		return h(ctx, req, w)
	}
}

// stats returns {"invocations": {tool: count, …}} for every tool, itself
// included.
func (inv invocations) stats(ctx context.Context, req *sdk.Request, w *sdk.Writer) error {
	counts := make(map[string]any, len(inv))
	for name, n := range inv {
		counts[name] = n.Load()
	}
	return w.JSON(map[string]any{"invocations": counts})
}

// crash streams "word1 word2 …" (after words, default 2) and then exits the
// whole process with status 3, to show how Plugboard survives a plugin that
// dies mid-run. The pause after each word lets the SDK hand the call off and
// flush, so the words reach the daemon before the exit.
func crash(ctx context.Context, req *sdk.Request, w *sdk.Writer) error {
	for i := range req.IntOr("after", 2) {
		word := fmt.Sprintf("word%d", i+1)
		if i > 0 {
			word = " " + word
		}
		if err := w.Text(word); err != nil {
			return err
		}
		if err := sleep(ctx, 20*time.Millisecond); err != nil {
			return err
		}
	}
	os.Exit(3)
	return nil
}

// streamText sends the text word by word, pausing delay_ms between words.
func streamText(ctx context.Context, req *sdk.Request, w *sdk.Writer) error {
	delay := time.Duration(req.NumberOr("delay_ms", 50) * float64(time.Millisecond))
	for i, word := range strings.Fields(req.String("text")) {
		if i > 0 {
			if err := sleep(ctx, delay); err != nil {
				return err
			}
			word = " " + word
		}
		if err := w.Text(word); err != nil {
			return err
		}
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// jsonEcho returns the payload as a json message: an object as it is, a
// string holding a JSON object parsed, anything else as {"payload": value}.
func jsonEcho(ctx context.Context, req *sdk.Request, w *sdk.Writer) error {
	v := req.Raw("payload")
	if s, ok := v.(string); ok {
		var parsed any
		if json.Unmarshal([]byte(s), &parsed) == nil {
			v = parsed
		}
	}
	if obj, ok := v.(map[string]any); ok {
		return w.JSON(obj)
	}
	return w.JSON(map[string]any{"payload": v})
}

var colors = map[string]color.NRGBA{
	"red":   {R: 0xe5, G: 0x3e, B: 0x3e, A: 0xff},
	"green": {R: 0x2f, G: 0xa8, B: 0x4f, A: 0xff},
	"blue":  {R: 0x3b, G: 0x6e, B: 0xe8, A: 0xff},
}

// renderPNG draws a disc with a soft edge on a light background.
func renderPNG(ctx context.Context, req *sdk.Request, w *sdk.Writer) error {
	width, height := req.IntOr("width", 128), req.IntOr("height", 128)
	if width < 1 || height < 1 || width > 2048 || height > 2048 {
		return fmt.Errorf("width and height must be between 1 and 2048, got %dx%d", width, height)
	}
	name := req.StringOr("color", "blue")
	c, ok := colors[name]
	if !ok {
		return fmt.Errorf("color %q is not one of red, green, blue", name)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, disc(width, height, c)); err != nil {
		return fmt.Errorf("encode png: %w", err)
	}
	return w.Blob(buf.Bytes(), "image/png", fmt.Sprintf("%s-%dx%d.png", name, width, height))
}

func disc(width, height int, c color.NRGBA) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, width, height))
	cx, cy := float64(width)/2, float64(height)/2
	r := math.Min(cx, cy) * 0.8
	for y := range height {
		for x := range width {
			d := math.Hypot(float64(x)+0.5-cx, float64(y)+0.5-cy)
			a := math.Max(0, math.Min(1, r-d+0.5)) // antialiased edge
			img.SetNRGBA(x, y, blend(color.NRGBA{R: 0xf4, G: 0xf5, B: 0xf7, A: 0xff}, c, a))
		}
	}
	return img
}

func blend(bg, fg color.NRGBA, a float64) color.NRGBA {
	mix := func(b, f uint8) uint8 { return uint8(float64(b)*(1-a) + float64(f)*a + 0.5) }
	return color.NRGBA{R: mix(bg.R, fg.R), G: mix(bg.G, fg.G), B: mix(bg.B, fg.B), A: 0xff}
}

// whoami reports who is calling with which key; it needs the credential.
func whoami(ctx context.Context, req *sdk.Request, w *sdk.Writer) error {
	key := req.Credentials.String("api_key")
	if err := checkAPIKey(key); err != nil {
		return err
	}
	user := req.UserID
	if user == "" {
		user = "an anonymous user"
	}
	if req.Bool("reveal") {
		return reveal(w, key)
	}
	return w.Text(fmt.Sprintf("You are %s, calling with API key %s…%s (%d characters).",
		user, key[:5], key[len(key)-2:], len(key)))
}

// reveal is what a careless tool does: it echoes the key, split across two
// text chunks, and in a JSON message. Plugboard's playground must redact it.
func reveal(w *sdk.Writer, key string) error {
	half := len(key) / 2
	for _, part := range []string{"Your API key is " + key[:half], key[half:] + "."} {
		if err := w.Text(part); err != nil {
			return err
		}
	}
	return w.JSON(map[string]any{"credentials": map[string]any{"api_key": key}})
}

// checkAPIKey accepts a key that starts with "demo-" and has at least 8 characters.
func checkAPIKey(key string) error {
	switch {
	case key == "":
		return errors.New("api_key is required")
	case !strings.HasPrefix(key, "demo-"):
		return errors.New(`api_key must start with "demo-"`)
	case len(key) < 8:
		return fmt.Errorf("api_key must be at least 8 characters long, got %d", len(key))
	}
	return nil
}
