package store

import (
	"context"
	"strconv"
	"time"
)

// tasksSeenKey is the setting holding when a user last opened the install
// tasks page.
func tasksSeenKey(userID int64) string { return "tasks_seen_at:" + strconv.FormatInt(userID, 10) }

// TasksSeenAt returns when the user last opened the install tasks page
// (the zero time when never): the header's "failed" badge counts only the
// failures after it.
func (db *DB) TasksSeenAt(ctx context.Context, userID int64) (time.Time, error) {
	v, ok, err := db.Setting(ctx, tasksSeenKey(userID))
	if err != nil || !ok {
		return time.Time{}, err
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return time.Time{}, nil // a damaged mark counts as never seen
	}
	return time.Unix(0, n), nil
}

// MarkTasksSeen records that the user has just seen the install tasks.
func (db *DB) MarkTasksSeen(ctx context.Context, userID int64) error {
	return db.SetSetting(ctx, tasksSeenKey(userID), strconv.FormatInt(db.Now().UnixNano(), 10))
}
