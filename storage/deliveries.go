package storage

import (
	"context"
	"fmt"
	"time"
)

// FirstDelivery records an envelope's key and reports whether this is the
// first time it was seen. It is race-free: of concurrent callers with one
// key, exactly one gets true.
func (s *Store) FirstDelivery(ctx context.Context, key string, at time.Time) (bool, error) {
	res, err := s.db.ExecContext(ctx, s.db.Rebind(
		`INSERT INTO deliveries (key, seen_at) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`), key, ts(at))
	if err != nil {
		return false, fmt.Errorf("recording delivery %s: %w", key, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("recording delivery %s: %w", key, err)
	}
	return n == 1, nil
}

// PruneDeliveries forgets deliveries seen before before, and returns how
// many. Slack stops redelivering within minutes; a day is plenty.
func (s *Store) PruneDeliveries(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, s.db.Rebind(`DELETE FROM deliveries WHERE seen_at < ?`), ts(before))
	if err != nil {
		return 0, fmt.Errorf("pruning deliveries: %w", err)
	}
	return res.RowsAffected()
}
