package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Auto-upgrade strategies: never, to a newer patch of the same major.minor,
// or to the latest version.
const (
	AutoUpgradeDisabled = "disabled"
	AutoUpgradePatch    = "patch"
	AutoUpgradeLatest   = "latest"
)

// AutoUpgrade is a plugin's auto-upgrade setting.
type AutoUpgrade struct {
	PluginID string
	Strategy string
	// Minute is the time of day to upgrade at, in minutes after midnight UTC.
	Minute int
	// LastRun is when the scheduler last checked the plugin (zero: never).
	LastRun time.Time
}

// Enabled reports whether the plugin upgrades itself.
func (a AutoUpgrade) Enabled() bool {
	return a.Strategy == AutoUpgradePatch || a.Strategy == AutoUpgradeLatest
}

// TimeOfDay formats Minute as HH:MM.
func (a AutoUpgrade) TimeOfDay() string { return fmt.Sprintf("%02d:%02d", a.Minute/60, a.Minute%60) }

// Due reports whether the scheduler should check the plugin at now: it is
// enabled, today's time of day has passed, and it has not run since. A
// check missed while the app was down happens later the same day.
func (a AutoUpgrade) Due(now time.Time) bool {
	now = now.UTC()
	midnight := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	at := midnight.Add(time.Duration(a.Minute) * time.Minute)
	return a.Enabled() && !now.Before(at) && a.LastRun.Before(at)
}

// ParseTimeOfDay reads HH:MM (24-hour) as minutes after midnight.
func ParseTimeOfDay(s string) (int, error) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a time of day (want HH:MM, 24-hour)", s)
	}
	return t.Hour()*60 + t.Minute(), nil
}

// AutoUpgrade returns a plugin's setting; a plugin never set is disabled
// at 03:00.
func (db *DB) AutoUpgrade(ctx context.Context, pluginID string) (AutoUpgrade, error) {
	a := AutoUpgrade{PluginID: pluginID}
	var last int64
	err := db.read.QueryRowContext(ctx, `SELECT strategy, minute, last_run FROM auto_upgrades WHERE plugin_id = ?`, pluginID).
		Scan(&a.Strategy, &a.Minute, &last)
	if errors.Is(err, sql.ErrNoRows) {
		return AutoUpgrade{PluginID: pluginID, Strategy: AutoUpgradeDisabled, Minute: 3 * 60}, nil
	}
	a.LastRun = unixOrZero(last)
	return a, err
}

// SetAutoUpgrade stores a plugin's strategy and time of day (keeping when
// it last ran).
func (db *DB) SetAutoUpgrade(ctx context.Context, a AutoUpgrade) error {
	switch a.Strategy {
	case AutoUpgradeDisabled, AutoUpgradePatch, AutoUpgradeLatest:
	default:
		return fmt.Errorf("unknown auto-upgrade strategy %q (want disabled, patch or latest)", a.Strategy)
	}
	if a.Minute < 0 || a.Minute >= 24*60 {
		return fmt.Errorf("time of day %d is not between 00:00 and 23:59", a.Minute)
	}
	_, err := db.write.ExecContext(ctx, `INSERT INTO auto_upgrades (plugin_id, strategy, minute, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (plugin_id) DO UPDATE SET strategy = excluded.strategy, minute = excluded.minute, updated_at = excluded.updated_at`,
		a.PluginID, a.Strategy, a.Minute, db.Now().Unix())
	return err
}

// EnabledAutoUpgrades lists the plugins that upgrade themselves.
func (db *DB) EnabledAutoUpgrades(ctx context.Context) ([]AutoUpgrade, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT plugin_id, strategy, minute, last_run FROM auto_upgrades WHERE strategy != 'disabled' ORDER BY plugin_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []AutoUpgrade
	for rows.Next() {
		var a AutoUpgrade
		var last int64
		if err := rows.Scan(&a.PluginID, &a.Strategy, &a.Minute, &last); err != nil {
			return nil, err
		}
		a.LastRun = unixOrZero(last)
		out = append(out, a)
	}
	return out, rows.Err()
}

// MarkAutoUpgradeRun records that the scheduler checked a plugin at t.
func (db *DB) MarkAutoUpgradeRun(ctx context.Context, pluginID string, t time.Time) error {
	_, err := db.write.ExecContext(ctx, `UPDATE auto_upgrades SET last_run = ? WHERE plugin_id = ?`, t.Unix(), pluginID)
	return err
}

func unixOrZero(s int64) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(s, 0).UTC()
}
