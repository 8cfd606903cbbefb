package models

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"strconv"
	"strings"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/protocol"
	"github.com/plugboard/plugboard/store"
)

// maxSchemas bounds the customizable models' schema cache; past it the
// cache starts again empty.
const maxSchemas = 256

// Schema is a model's declaration: a predefined model's own, else (a
// customizable model) what the plugin's model/schema answers for it with
// its credentials, kept per model and credentials so a page asks the
// plugin once. It is nil when the plugin describes no such model.
func (s *Service) Schema(ctx context.Context, actor string, ref ModelRef) (*plugboard.ModelDeclaration, error) {
	r, err := s.Credentials(ctx, ref.PluginID, ref.Provider, ref.ModelType, ref.Model)
	if err != nil {
		return nil, err
	}
	return s.schema(ctx, actor, r)
}

func (s *Service) schema(ctx context.Context, actor string, r *Resolved) (*plugboard.ModelDeclaration, error) {
	if r.Declaration != nil {
		return r.Declaration, nil
	}
	key := schemaKey(r)
	s.mu.Lock()
	d, ok := s.schemas[key]
	s.mu.Unlock()
	if ok {
		return d, nil
	}
	d, err := s.daemon.ModelSchema(ctx, r.PluginID, apispec.ModelData{Provider: r.Provider, Credentials: r.Credentials,
		ModelRequest: protocol.ModelRequest{ModelType: r.ModelType, Model: r.Model}}, actor)
	if err != nil {
		return nil, s.redacted(err, r.Secrets)
	}
	s.mu.Lock()
	if len(s.schemas) >= maxSchemas {
		clear(s.schemas)
	}
	s.schemas[key] = d
	s.mu.Unlock()
	return d, nil
}

// schemaKey names a customizable model with its credentials: a digest of
// them, so changed credentials ask the plugin again and no secret is kept
// as a key.
func schemaKey(r *Resolved) string {
	b, _ := json.Marshal(r.Credentials) // maps marshal sorted
	sum := sha256.Sum256(b)
	return strings.Join([]string{r.PluginID, r.Provider, r.ModelType, r.Model, hex.EncodeToString(sum[:])}, "\x00")
}

// ParseParameters reads a model's parameters from their text (raw, by
// rule name), typed by the model's parameter rules and checked against
// their bounds and options; one left empty is not sent, so the model's
// default applies. Text for no rule is ignored.
func ParseParameters(rules []plugboard.ParameterRule, raw map[string]string) (map[string]any, error) {
	params := map[string]any{}
	for _, r := range rules {
		v := strings.TrimSpace(raw[r.Name])
		if v == "" {
			continue
		}
		val, err := parseParameter(r, v)
		if err != nil {
			return nil, err
		}
		params[r.Name] = val
	}
	return params, nil
}

func parseParameter(r plugboard.ParameterRule, v string) (any, error) {
	label := cmp.Or(r.Label.English(), r.Name)
	switch r.Type {
	case plugboard.RuleInt, plugboard.RuleFloat:
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || r.Type == plugboard.RuleInt && f != float64(int64(f)) {
			if r.Type == plugboard.RuleInt {
				return nil, plugboard.Errorf(plugboard.EINVALID, "%s must be a whole number.", label)
			}
			return nil, plugboard.Errorf(plugboard.EINVALID, "%s must be a number.", label)
		}
		if r.Min != nil && f < *r.Min || r.Max != nil && f > *r.Max {
			return nil, plugboard.Errorf(plugboard.EINVALID, "%s must be between %s and %s.", label, bound(r.Min, "−∞"), bound(r.Max, "∞"))
		}
		if r.Type == plugboard.RuleInt {
			return int64(f), nil
		}
		return f, nil
	case plugboard.RuleBoolean:
		return v == "true", nil
	}
	if len(r.Options) > 0 && !containsString(r.Options, v) {
		return nil, plugboard.Errorf(plugboard.EINVALID, "%s must be one of %s.", label, strings.Join(r.Options, ", "))
	}
	return v, nil
}

func bound(b *float64, none string) string {
	if b == nil {
		return none
	}
	return strconv.FormatFloat(*b, 'f', -1, 64)
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Price is what a turn cost.
type Price struct {
	// Total is a decimal in Currency ("0.000384").
	Total    string
	Currency string
	// Computed is true when Plugboard computed it from the model's
	// declared pricing, false when the plugin's usage carried it.
	Computed bool
}

// PriceOf is a turn's price: the plugin's, when its usage carries a total
// price other than zero (Dify's plugins price their own calls), else the
// tokens of the usage at the model's declared pricing (input and output
// per unit of tokens). Nil when there is no usage, or neither the plugin
// nor the declaration prices the model.
func PriceOf(p *plugboard.Pricing, u *protocol.LLMUsage) *Price {
	if u == nil {
		return nil
	}
	if total, ok := new(big.Rat).SetString(string(u.TotalPrice)); ok && total.Sign() != 0 {
		return &Price{Total: store.DecimalString(total), Currency: cmp.Or(u.Currency, "USD")}
	}
	if p == nil {
		return nil
	}
	unit, ok := new(big.Rat).SetString(cmp.Or(p.Unit, "1"))
	in, ok2 := new(big.Rat).SetString(cmp.Or(p.Input, "0"))
	out := new(big.Rat)
	ok3 := true
	if p.Output != nil {
		_, ok3 = out.SetString(cmp.Or(*p.Output, "0"))
	}
	if !ok || !ok2 || !ok3 {
		return nil
	}
	total := new(big.Rat).Mul(in, big.NewRat(int64(u.PromptTokens), 1))
	total.Add(total, new(big.Rat).Mul(out, big.NewRat(int64(u.CompletionTokens), 1)))
	total.Mul(total, unit)
	return &Price{Total: store.DecimalString(total), Currency: cmp.Or(p.Currency, "USD"), Computed: true}
}
