package plugboard_test

import (
	"testing"

	"github.com/plugboard/plugboard"
)

func TestParseIdentifier(t *testing.T) {
	sum := "9a4eae17bedc11c9476b45ad28aacab3d4e718d8efa9f30abeee30f41e0db591"
	t.Run("OK", func(t *testing.T) {
		id, err := plugboard.ParseIdentifier("acme/weather_lookup:0.3.1-beta@" + sum)
		want := plugboard.Identifier{Author: "acme", Name: "weather_lookup", Version: "0.3.1-beta", Checksum: sum}
		if err != nil || id != want {
			t.Fatalf("ParseIdentifier = %+v, %v", id, err)
		}
		if id.String() != "acme/weather_lookup:0.3.1-beta@"+sum || id.PluginID() != "acme/weather_lookup" {
			t.Errorf("String = %s, PluginID = %s", id, id.PluginID())
		}
	})
	for name, s := range map[string]string{
		"ErrNoChecksum":  "acme/x:1.0.0",
		"ErrUpperAuthor": "Acme/x:1.0.0@" + sum,
		"ErrBadVersion":  "acme/x:v1@" + sum,
		"ErrShortSum":    "acme/x:1.0.0@abc",
		"ErrTrailing":    "acme/x:1.0.0@" + sum + " ",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := plugboard.ParseIdentifier(s); plugboard.ErrorCode(err) != plugboard.EINVALID {
				t.Errorf("ParseIdentifier(%q) err = %v, want code invalid", s, err)
			}
		})
	}
}

func TestValidPluginID(t *testing.T) {
	for id, want := range map[string]bool{
		"acme/weather":  true,
		"a_b-1/c_d-2":   true,
		"acme":          false,
		"acme/":         false,
		"/weather":      false,
		"Acme/weather":  false,
		"acme/we/ather": false,
		"acme/weather ": false,
	} {
		if got := plugboard.ValidPluginID(id); got != want {
			t.Errorf("ValidPluginID(%q) = %v, want %v", id, got, want)
		}
	}
}
