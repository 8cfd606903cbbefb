package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/plugboard/plugboard/store"
)

func TestAutoUpgrade(t *testing.T) {
	db, now := MustOpen(t)
	ctx := context.Background()
	t.Run("OKDefaultDisabled", func(t *testing.T) {
		a, err := db.AutoUpgrade(ctx, "plugboard/pytools")
		if err != nil || a.Strategy != store.AutoUpgradeDisabled || a.TimeOfDay() != "03:00" {
			t.Fatalf("default = %+v, %v", a, err)
		}
	})
	t.Run("OKSetListMark", func(t *testing.T) {
		if err := db.SetAutoUpgrade(ctx, store.AutoUpgrade{PluginID: "plugboard/pytools", Strategy: store.AutoUpgradePatch, Minute: 90}); err != nil {
			t.Fatal(err)
		}
		if err := db.SetAutoUpgrade(ctx, store.AutoUpgrade{PluginID: "plugboard/gotools", Strategy: store.AutoUpgradeDisabled, Minute: 0}); err != nil {
			t.Fatal(err)
		}
		list, err := db.EnabledAutoUpgrades(ctx)
		if err != nil || len(list) != 1 || list[0].PluginID != "plugboard/pytools" || list[0].TimeOfDay() != "01:30" {
			t.Fatalf("enabled = %+v, %v", list, err)
		}
		if err := db.MarkAutoUpgradeRun(ctx, "plugboard/pytools", *now); err != nil {
			t.Fatal(err)
		}
		a, _ := db.AutoUpgrade(ctx, "plugboard/pytools")
		if !a.LastRun.Equal(*now) {
			t.Fatalf("last run %v, want %v", a.LastRun, *now)
		}
	})
	t.Run("ErrStrategy", func(t *testing.T) {
		if err := db.SetAutoUpgrade(ctx, store.AutoUpgrade{PluginID: "a/b", Strategy: "sometimes"}); err == nil {
			t.Fatal("an unknown strategy was stored")
		}
	})
	t.Run("ErrMinute", func(t *testing.T) {
		if err := db.SetAutoUpgrade(ctx, store.AutoUpgrade{PluginID: "a/b", Strategy: store.AutoUpgradeLatest, Minute: 24 * 60}); err == nil {
			t.Fatal("minute 1440 was stored")
		}
	})
}

func TestAutoUpgradeDue(t *testing.T) {
	day := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	at := func(h, m int) time.Time { return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute) }
	for _, c := range []struct {
		name string
		a    store.AutoUpgrade
		now  time.Time
		want bool
	}{
		{"OKAtTheMinute", store.AutoUpgrade{Strategy: store.AutoUpgradeLatest, Minute: 180}, at(3, 0), true},
		{"OKLaterThatDay", store.AutoUpgrade{Strategy: store.AutoUpgradePatch, Minute: 180}, at(17, 5), true},
		{"OKBefore", store.AutoUpgrade{Strategy: store.AutoUpgradeLatest, Minute: 180}, at(2, 59), false},
		{"OKRanToday", store.AutoUpgrade{Strategy: store.AutoUpgradeLatest, Minute: 180, LastRun: at(3, 1)}, at(9, 0), false},
		{"OKRanYesterday", store.AutoUpgrade{Strategy: store.AutoUpgradeLatest, Minute: 180, LastRun: at(3, 1).AddDate(0, 0, -1)}, at(3, 0), true},
		{"OKDisabled", store.AutoUpgrade{Strategy: store.AutoUpgradeDisabled, Minute: 180}, at(3, 0), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := c.a.Due(c.now); got != c.want {
				t.Errorf("Due(%s) = %v, want %v", c.now.Format("15:04"), got, c.want)
			}
		})
	}
}
