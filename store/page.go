package store

import (
	"context"
	"strings"
)

// filter collects the conditions of a list's WHERE clause and their
// arguments, as the history filters build them.
type filter struct {
	conds []string
	args  []any
}

// and adds a condition with its arguments.
func (f *filter) and(cond string, args ...any) {
	f.conds, f.args = append(f.conds, cond), append(f.args, args...)
}

// search adds "the query is in one of these columns" (LIKE, the query's
// own % and _ taken literally), and more conditions of the same pattern
// (each with one ? for it) when a search looks beyond the table's columns.
// An empty query adds nothing.
func (f *filter) search(q string, cols []string, more ...string) {
	q = strings.TrimSpace(q)
	if q == "" {
		return
	}
	like := "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(q) + "%"
	var ors []string
	for _, col := range cols {
		ors, f.args = append(ors, col+` LIKE ? ESCAPE '\'`), append(f.args, like)
	}
	for _, m := range more {
		ors = append(ors, m)
		for range strings.Count(m, "?") {
			f.args = append(f.args, like)
		}
	}
	f.conds = append(f.conds, "("+strings.Join(ors, " OR ")+")")
}

// where is the WHERE clause ("" for no conditions) and its arguments.
func (f *filter) where() (string, []any) {
	if len(f.conds) == 0 {
		return "", f.args
	}
	return ` WHERE ` + strings.Join(f.conds, ` AND `), f.args
}

// findPage reads one page of a list — `SELECT columns FROM table where
// ORDER BY order LIMIT limit OFFSET offset`, each row through scan — and
// how many rows the filter selects in all (for paging). A limit of 0 or
// less is 100.
func findPage[T any](ctx context.Context, db *DB, table, columns, where string, args []any, order string, limit, offset int,
	scan func(scanner) (*T, error)) ([]T, int, error) {
	if limit <= 0 {
		limit = 100
	}
	var total int
	if err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM `+table+where, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := db.read.QueryContext(ctx, `SELECT `+columns+` FROM `+table+where+` ORDER BY `+order+` LIMIT ? OFFSET ?`,
		append(args, limit, max(offset, 0))...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, *v)
	}
	return out, total, rows.Err()
}
