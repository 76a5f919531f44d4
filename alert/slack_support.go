package alert

import (
	"context"
	"fmt"
	"time"
)

// Posted records where group id's triage message is (channel and its ts),
// so later runs of JobTriage update it in place. Recording the same place
// again changes nothing.
func (s *Service) Posted(ctx context.Context, id int64, channel, ts string) (*Group, error) {
	if channel == "" || ts == "" {
		return nil, fmt.Errorf("recording where ALR-%d's triage message is: no channel or message given", id)
	}
	g, err := s.store.AlertGroup(ctx, id)
	if err != nil {
		return nil, err
	}
	if g.TriageChannel == channel && g.TriageTS == ts {
		return g, nil
	}
	return s.store.UpdateAlertGroup(ctx, id, func(g *Group) error {
		g.TriageChannel, g.TriageTS = channel, ts
		return nil
	}, nil)
}

// MaxStormGroups bounds the groups StormGroups reads for one digest.
const MaxStormGroups = 50_000

// StormGroups lists the groups of route's storm digest of minute (those
// that arrived over the route's limit in that minute), newest first.
func (s *Service) StormGroups(ctx context.Context, route string, minute time.Time) ([]Group, error) {
	return s.store.AlertGroups(ctx, GroupQuery{Route: route, StormMinute: minute.UTC(), Storm: true, Limit: MaxStormGroups})
}

// GroupAlert returns the alert alertID of group id, looked for among the
// group's latest limit alerts; ok is false when it is not among them.
func (s *Service) GroupAlert(ctx context.Context, id, alertID int64, limit int) (a Alert, ok bool, err error) {
	alerts, err := s.store.GroupAlerts(ctx, id, limit)
	if err != nil {
		return Alert{}, false, fmt.Errorf("reading the alerts of ALR-%d: %w", id, err)
	}
	for _, a := range alerts {
		if a.ID == alertID {
			return a, true, nil
		}
	}
	return Alert{}, false, nil
}
