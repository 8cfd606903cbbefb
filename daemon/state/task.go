package state

import (
	"context"
	"database/sql"
	"encoding/json"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/apispec"
)

// CreateTask inserts t, filling its times.
func (d *DB) CreateTask(ctx context.Context, t *apispec.Task) error {
	plugins, err := json.Marshal(t.Plugins)
	if err != nil {
		return err
	}
	now := d.now()
	t.CreatedAt, t.UpdatedAt = fromUnix(now), fromUnix(now)
	return d.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO tasks (id, tenant_id, status, total, completed, plugins,
			created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			t.ID, t.TenantID, t.Status, t.TotalPlugins, t.CompletedPlugins, string(plugins), now, now)
		return err
	})
}

// UpdateTask stores t's status and progress.
func (d *DB) UpdateTask(ctx context.Context, t *apispec.Task) error {
	plugins, err := json.Marshal(t.Plugins)
	if err != nil {
		return err
	}
	now := d.now()
	t.UpdatedAt = fromUnix(now)
	return d.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE tasks SET status = ?, total = ?, completed = ?, plugins = ?,
			updated_at = ? WHERE id = ?`, t.Status, t.TotalPlugins, t.CompletedPlugins, string(plugins), now, t.ID)
		return mustAffect(res, err, "install task "+t.ID)
	})
}

const taskColumns = `id, tenant_id, status, total, completed, plugins, created_at, updated_at`

// FindTask returns one of the tenant's tasks, or plugboard.ENOTFOUND.
func (d *DB) FindTask(ctx context.Context, tenant, id string) (*apispec.Task, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT `+taskColumns+` FROM tasks WHERE tenant_id = ? AND id = ?`, tenant, id)
	if err != nil {
		return nil, err
	}
	tasks, err := scanTasks(rows)
	if err != nil {
		return nil, err
	}
	if len(tasks) == 0 {
		return nil, plugboard.Errorf(plugboard.ENOTFOUND, "install task %s not found", id)
	}
	return &tasks[0], nil
}

// FindTasks returns the tenant's tasks, newest first; limit <= 0 means all.
func (d *DB) FindTasks(ctx context.Context, tenant string, offset, limit int) ([]apispec.Task, error) {
	if limit <= 0 {
		limit = -1
	}
	rows, err := d.db.QueryContext(ctx, `SELECT `+taskColumns+` FROM tasks WHERE tenant_id = ?
		ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`, tenant, limit, offset)
	if err != nil {
		return nil, err
	}
	return scanTasks(rows)
}

func scanTasks(rows *sql.Rows) ([]apispec.Task, error) {
	defer rows.Close()
	out := []apispec.Task{}
	for rows.Next() {
		var t apispec.Task
		var plugins string
		var created, updated int64
		if err := rows.Scan(&t.ID, &t.TenantID, &t.Status, &t.TotalPlugins, &t.CompletedPlugins, &plugins,
			&created, &updated); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(plugins), &t.Plugins); err != nil {
			return nil, err
		}
		t.CreatedAt, t.UpdatedAt = fromUnix(created), fromUnix(updated)
		out = append(out, t)
	}
	return out, rows.Err()
}

// DeleteTask deletes one of the tenant's finished tasks: plugboard.ENOTFOUND when
// there is none, plugboard.ECONFLICT while it still runs.
func (d *DB) DeleteTask(ctx context.Context, tenant, id string) error {
	return d.tx(ctx, func(tx *sql.Tx) error {
		var status string
		err := tx.QueryRowContext(ctx, `SELECT status FROM tasks WHERE tenant_id = ? AND id = ?`, tenant, id).Scan(&status)
		if err != nil {
			return notFound(err, "install task "+id)
		}
		if !finished(status) {
			return plugboard.Errorf(plugboard.ECONFLICT, "install task %s is still %s; only finished tasks can be deleted", id, status)
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM tasks WHERE id = ?`, id)
		return err
	})
}

// DeleteFinishedTasks deletes every finished task of the tenant.
func (d *DB) DeleteFinishedTasks(ctx context.Context, tenant string) error {
	return d.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM tasks WHERE tenant_id = ? AND status IN (?, ?)`,
			tenant, apispec.TaskSuccess, apispec.TaskFailed)
		return err
	})
}

// FailUnfinishedTasks marks every pending or running task failed with msg
// (used at start: their goroutines died with the previous process).
func (d *DB) FailUnfinishedTasks(ctx context.Context, msg string) error {
	tasks, err := d.unfinishedTasks(ctx)
	if err != nil {
		return err
	}
	for i := range tasks {
		t := &tasks[i]
		t.Status = apispec.TaskFailed
		for j := range t.Plugins {
			if p := &t.Plugins[j]; !finished(p.Status) {
				p.Status, p.Message = apispec.TaskFailed, msg
			}
		}
		if err := d.UpdateTask(ctx, t); err != nil {
			return err
		}
	}
	return nil
}

func (d *DB) unfinishedTasks(ctx context.Context) ([]apispec.Task, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT `+taskColumns+` FROM tasks WHERE status NOT IN (?, ?)`,
		apispec.TaskSuccess, apispec.TaskFailed)
	if err != nil {
		return nil, err
	}
	return scanTasks(rows)
}

func finished(status string) bool {
	return status == apispec.TaskSuccess || status == apispec.TaskFailed
}
