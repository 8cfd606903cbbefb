package main

import (
	"context"
	"slices"

	"github.com/plugboard/plugboard/sdk"
)

// flagWords are the demo moderation's word lists, by category: a text is
// flagged for each category one of whose words it contains (as a whole
// word, any case). A short fixed list, not a classifier.
var flagWords = []struct {
	category string
	words    []string
}{
	{"violence", []string{"kill", "murder", "bomb", "shoot", "stab"}},
	{"harassment", []string{"idiot", "stupid", "loser", "moron"}},
	{"spam", []string{"lottery", "jackpot", "viagra", "giveaway"}},
}

// moderation is the demo moderation model.
type moderation struct{}

// Moderate reports whether the text contains a listed word.
func (m moderation) Moderate(ctx context.Context, req *sdk.ModerationRequest) (bool, error) {
	v, err := m.ModerateCategories(ctx, req)
	return v.Flagged, err
}

// ModerateCategories names the categories whose words the text contains.
func (moderation) ModerateCategories(ctx context.Context, req *sdk.ModerationRequest) (*sdk.ModerationVerdict, error) {
	v := &sdk.ModerationVerdict{}
	found := words(req.Text)
	for _, c := range flagWords {
		if slices.ContainsFunc(c.words, func(w string) bool { return slices.Contains(found, w) }) {
			v.Categories = append(v.Categories, c.category)
		}
	}
	v.Flagged = len(v.Categories) > 0
	return v, nil
}
