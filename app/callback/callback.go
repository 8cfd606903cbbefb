// Package callback is the application service that answers a plugin's
// calls back into the platform (Dify's "backwards invocation"), as the
// daemon forwards them to the app's inner API: LLM turns (and structured
// output), summaries, embeddings, rerank, TTS, speech to text and
// moderation with the workspace's models and their stored credentials
// (app/models), another installed tool with its stored credential
// (app/invoke, the one invocation path), and file uploads the app stores
// and serves at expiring links. Dify's app, workflow and node calls are
// answered "not available in Plugboard". Every call is audited (plugin,
// type, outcome) without its content. It runs no goroutines.
package callback

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/app/invoke"
	"github.com/plugboard/plugboard/app/models"
	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/daemon/innerapi"
	"github.com/plugboard/plugboard/store"
)

// AuditAction is the audit log's action of a call back.
const AuditAction = "plugin.call_back"

// Config is what the service needs.
type Config struct {
	Store  *store.DB
	Daemon *client.Client
	Models *models.Service
	Invoke *invoke.Service
	Logger *slog.Logger
	// BaseURL is the app's address as plugins reach it (scheme and host):
	// upload and download links of plugin files are made under it. ""
	// uses the address each call came to (Call.BaseURL).
	BaseURL string
	// MaxFile bounds a file a plugin uploads (0: MaxFileSize).
	MaxFile int64
}

// MaxFileSize is the default bound of one uploaded plugin file (Dify's
// default upload limit, 15 MiB).
const MaxFileSize = 15 << 20

// Service answers calls back.
type Service struct {
	cfg Config
	log *slog.Logger
}

// New returns the service.
func New(cfg Config) *Service {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxFile <= 0 {
		cfg.MaxFile = MaxFileSize
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	return &Service{cfg: cfg, log: cfg.Logger}
}

// MaxFile is the largest file a plugin may upload.
func (s *Service) MaxFile() int64 { return s.cfg.MaxFile }

// Call is one call back as the daemon forwards it.
type Call struct {
	// PluginID is the calling plugin (author/name).
	PluginID string
	// Depth is how deep in calls back this one is (1: made by a plugin a
	// user invoked).
	Depth int
	// Path is the inner API's path (innerapi.Path…).
	Path string
	// Body is the plugin's request, with the daemon's tenant_id, user_id
	// and type.
	Body []byte
	// BaseURL is the app's address as the call reached it (scheme and
	// host), used when the service has no BaseURL of its own.
	BaseURL string
}

// base is the app's address for links made for this call.
func (s *Service) base(fallback string) string {
	if s.cfg.BaseURL != "" {
		return s.cfg.BaseURL
	}
	return strings.TrimRight(fallback, "/")
}

// base is what every request carries.
type base struct {
	TenantID string `json:"tenant_id"`
	UserID   string `json:"user_id"`
	Type     string `json:"type"`
}

// handler answers one path: it calls emit with each chunk of a streamed
// answer, once for a unary one, and returns what the audit log names as
// the call's target.
type handler func(s *Service, ctx context.Context, c *Call, emit func(any) error) (target string, err error)

var handlers = map[string]handler{
	innerapi.PathLLM:                 (*Service).llm,
	innerapi.PathLLMStructuredOutput: (*Service).structuredOutput,
	innerapi.PathTextEmbedding:       (*Service).textEmbedding,
	innerapi.PathRerank:              (*Service).rerank,
	innerapi.PathTTS:                 (*Service).tts,
	innerapi.PathSpeech2Text:         (*Service).speech2text,
	innerapi.PathModeration:          (*Service).moderation,
	innerapi.PathSummary:             (*Service).summary,
	innerapi.PathTool:                (*Service).tool,
	innerapi.PathUploadFile:          (*Service).uploadRequest,
}

// unavailable are Dify's calls back Plugboard has nothing to answer with.
var unavailable = map[string]string{
	innerapi.PathApp:                "Invoking a Dify app",
	innerapi.PathFetchApp:           "Fetching a Dify app's information",
	innerapi.PathParameterExtractor: "The parameter extractor workflow node",
	innerapi.PathQuestionClassifier: "The question classifier workflow node",
}

// Known reports whether path is a path of the inner API (answered or
// refused as not available).
func Known(path string) bool {
	_, ok := handlers[path]
	_, no := unavailable[path]
	return ok || no
}

// Handle answers a call back: emit gets each chunk of a streamed answer
// (innerapi.Streamed), or the one result of a unary one. An error is the
// plugin's to read: its message names what is wrong, never a secret.
func (s *Service) Handle(ctx context.Context, c *Call, emit func(any) error) error {
	target, err := s.dispatch(ctx, c, emit)
	s.audit(ctx, c, target, err)
	return err
}

func (s *Service) dispatch(ctx context.Context, c *Call, emit func(any) error) (string, error) {
	if what, ok := unavailable[c.Path]; ok {
		return "", plugboard.Errorf(plugboard.EUNAVAILABLE, "%s is not available in Plugboard.", what)
	}
	h, ok := handlers[c.Path]
	if !ok {
		return "", plugboard.Errorf(plugboard.ENOTFOUND, "There is no call back %q.", c.Path)
	}
	return h(s, ctx, c, emit)
}

// audit records the call: who, what type, on what, how it ended.
func (s *Service) audit(ctx context.Context, c *Call, target string, err error) {
	outcome, detail := store.OutcomeSuccess, fmt.Sprintf("depth %d", c.Depth)
	if err != nil {
		outcome, detail = store.OutcomeFailure, detail+": "+truncate(plugboard.ErrorMessage(err), 300)
	}
	what := c.Path
	if target != "" {
		what += " " + target
	}
	if s.cfg.Store == nil {
		return
	}
	if aerr := s.cfg.Store.AuditOutcome(context.WithoutCancel(ctx), "plugin "+c.PluginID, AuditAction, truncate(what, 200), detail, outcome); aerr != nil {
		s.log.Error("call back: audit", "plugin", c.PluginID, "path", c.Path, "err", aerr)
	}
}

// decode reads the call's body into v, saying what is wrong with it.
func decode(c *Call, v any) error {
	if err := json.Unmarshal(c.Body, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return plugboard.Errorf(plugboard.EINVALID, "The request's %s should be a %s, not %s.", te.Field, te.Type, te.Value)
		}
		return plugboard.Errorf(plugboard.EINVALID, "The request is not a JSON object: %v.", err)
	}
	return nil
}

// required refuses a request missing one of its fields (name, value pairs).
func required(fields ...string) error {
	for i := 0; i+1 < len(fields); i += 2 {
		if strings.TrimSpace(fields[i+1]) == "" {
			return plugboard.Errorf(plugboard.EINVALID, "The request's %s is required.", fields[i])
		}
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
