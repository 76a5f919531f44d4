package alert_test

import (
	"context"
	"errors"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sitrep/sitrep/alert"
	"github.com/sitrep/sitrep/internal/jobs"
)

// memStore is alert.Store in memory, for the domain's tests: one
// transaction at a time, rolled back by working on a copy.
type memStore struct {
	mu      sync.Mutex
	groups  map[int64]alert.Group
	members map[int64]map[string]alert.Status
	alerts  []alert.Alert // with GroupKey set to the group's ID as text
	alertOf map[int64]int64
	storm   map[string]int
	jobs    map[string]jobs.Job
	nextID  int64
	// fail, when set, fails the next Enqueue.
	fail error
	// gate, when set, holds each Intake until it receives; failBatches
	// fails every Intake that stores more than one alert.
	gate        chan struct{}
	failBatches bool
	// atGate counts the Intakes that reached the gate.
	atGate atomic.Int64
	// hide, when set, makes Groups answer nil for every key once: another
	// transaction created the groups after this one looked.
	hide bool
	// offered counts, by key, the jobs given to Enqueue in committed
	// intakes.
	offered map[string]int
}

func newMemStore() *memStore {
	return &memStore{groups: map[int64]alert.Group{}, members: map[int64]map[string]alert.Status{},
		alertOf: map[int64]int64{}, storm: map[string]int{}, jobs: map[string]jobs.Job{}}
}

func (m *memStore) clone() *memStore {
	c := &memStore{groups: map[int64]alert.Group{}, members: map[int64]map[string]alert.Status{},
		alerts: slices.Clone(m.alerts), alertOf: map[int64]int64{}, storm: map[string]int{}, jobs: map[string]jobs.Job{}, nextID: m.nextID, fail: m.fail, hide: m.hide,
		offered: map[string]int{}}
	for k, v := range m.offered {
		c.offered[k] = v
	}
	for k, v := range m.groups {
		c.groups[k] = v
	}
	for k, v := range m.members {
		mm := map[string]alert.Status{}
		for f, s := range v {
			mm[f] = s
		}
		c.members[k] = mm
	}
	for k, v := range m.alertOf {
		c.alertOf[k] = v
	}
	for k, v := range m.storm {
		c.storm[k] = v
	}
	for k, v := range m.jobs {
		c.jobs[k] = v
	}
	return c
}

type memTx struct{ m *memStore }

func (t memTx) Group(source alert.Source, key string) (*alert.Group, error) {
	for _, g := range t.m.groups {
		if g.Source == source && g.Key == key {
			return &g, nil
		}
	}
	return nil, nil
}

func (t memTx) SaveGroup(g *alert.Group) error {
	if g.ID == 0 {
		for _, o := range t.m.groups {
			if o.Source == g.Source && o.Key == g.Key {
				return alert.ErrGroupExists
			}
		}
		t.m.nextID++
		g.ID = t.m.nextID
	}
	t.m.groups[g.ID] = *g
	return nil
}

func (t memTx) SetMember(groupID int64, fingerprint string, st alert.Status, at time.Time) (alert.Status, error) {
	mm := t.m.members[groupID]
	if mm == nil {
		mm = map[string]alert.Status{}
		t.m.members[groupID] = mm
	}
	prev := mm[fingerprint]
	mm[fingerprint] = st
	return prev, nil
}

func (t memTx) AddAlert(groupID int64, a *alert.Alert) error {
	t.m.nextID++
	a.ID = t.m.nextID
	t.m.alerts = append(t.m.alerts, *a)
	t.m.alertOf[a.ID] = groupID
	return nil
}

func (t memTx) Groups(keys []alert.Key) ([]*alert.Group, error) {
	out := make([]*alert.Group, len(keys))
	if t.m.hide {
		t.m.hide = false
		return out, nil
	}
	for i, k := range keys {
		out[i], _ = t.Group(k.Source, k.Key)
	}
	return out, nil
}

func (t memTx) SaveGroups(gs []*alert.Group) error {
	for _, g := range gs {
		if g.ID == 0 {
			return errors.New("SaveGroups of a new group")
		}
		if err := t.SaveGroup(g); err != nil {
			return err
		}
	}
	return nil
}

func (t memTx) Add(entries []alert.Entry, at time.Time) ([]alert.Status, error) {
	prev := make([]alert.Status, len(entries))
	for i, e := range entries {
		var err error
		if prev[i], err = t.SetMember(e.GroupID, e.Alert.Fingerprint, e.Alert.Status, at); err != nil {
			return nil, err
		}
		if err := t.AddAlert(e.GroupID, e.Alert); err != nil {
			return nil, err
		}
	}
	return prev, nil
}

func (t memTx) Take(route string, minute time.Time) (int, error) {
	k := route + "@" + minute.Format(time.RFC3339)
	t.m.storm[k]++
	return t.m.storm[k], nil
}

func (t memTx) Enqueue(js ...jobs.Job) error {
	if t.m.fail != nil {
		return t.m.fail
	}
	for _, j := range js {
		if t.m.offered == nil {
			t.m.offered = map[string]int{}
		}
		t.m.offered[j.Key]++
		if _, ok := t.m.jobs[j.Key]; !ok {
			t.m.jobs[j.Key] = j
		}
	}
	return nil
}

func (m *memStore) Intake(ctx context.Context, f func(alert.Tx) error) error {
	if m.gate != nil {
		m.atGate.Add(1)
		<-m.gate
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.clone()
	if err := f(memTx{c}); err != nil {
		return err
	}
	if m.failBatches && len(c.alerts) > len(m.alerts)+1 {
		return errBoom
	}
	m.groups, m.members, m.alerts, m.alertOf, m.storm, m.jobs, m.nextID, m.offered, m.hide = c.groups, c.members, c.alerts, c.alertOf, c.storm, c.jobs, c.nextID, c.offered, c.hide
	return nil
}

func (m *memStore) AlertGroup(ctx context.Context, id int64) (*alert.Group, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	g, ok := m.groups[id]
	if !ok {
		return nil, alert.ErrNoGroup
	}
	return &g, nil
}

func (m *memStore) UpdateAlertGroup(ctx context.Context, id int64, change func(*alert.Group) error, follow func(*alert.Group) []jobs.Job) (*alert.Group, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	g, ok := m.groups[id]
	if !ok {
		return nil, alert.ErrNoGroup
	}
	if err := change(&g); err != nil {
		return nil, err
	}
	g.Version++
	m.groups[id] = g
	if follow != nil {
		for _, j := range follow(&g) {
			if _, ok := m.jobs[j.Key]; !ok {
				m.jobs[j.Key] = j
			}
		}
	}
	return &g, nil
}

func (m *memStore) AlertGroups(ctx context.Context, q alert.GroupQuery) ([]alert.Group, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []alert.Group
	for _, g := range m.groups {
		if q.IncidentID != 0 && g.IncidentID != q.IncidentID ||
			q.Route != "" && g.Route != q.Route ||
			!q.StormMinute.IsZero() && !g.StormMinute.Equal(q.StormMinute) ||
			q.Storm && !g.Storm {
			continue
		}
		out = append(out, g)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID > out[j].ID })
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out, nil
}

func (m *memStore) GroupAlerts(ctx context.Context, groupID int64, limit int) ([]alert.Alert, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []alert.Alert
	for i := len(m.alerts) - 1; i >= 0 && len(out) < limit; i-- {
		if m.alertOf[m.alerts[i].ID] == groupID {
			out = append(out, m.alerts[i])
		}
	}
	return out, nil
}

func (m *memStore) CountAlerts(ctx context.Context, since time.Time) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var n int64
	for _, a := range m.alerts {
		if !a.ReceivedAt.Before(since) {
			n++
		}
	}
	return n, nil
}

// jobKeys lists the stored jobs' keys, sorted.
func (m *memStore) jobKeys() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for k := range m.jobs {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

var _ alert.Store = (*memStore)(nil)

var errBoom = errors.New("boom")
