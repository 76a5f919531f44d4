package incident

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/sitrep/sitrep/internal/clock"
	"github.com/sitrep/sitrep/internal/jobs"
)

// JobProvision is the kind of the durable job that sets up an incident's
// chat room (channel, topic, header, announcement) after it is recorded. Its
// payload is a ProvisionPayload.
const JobProvision = "incident.provision"

// ProvisionPayload is the payload of a JobProvision job.
type ProvisionPayload struct {
	IncidentID int64 `json:"incident_id"`
}

// Store is what the incident use cases need from storage.
type Store interface {
	// CreateIncident gives inc the next incident number (unique and
	// increasing, also under concurrent calls) and an ID, and stores it
	// together with the jobs that follow(inc) returns, in one transaction:
	// either all are stored or none. If inc.RequestKey is not empty and an
	// incident with that key exists, it stores nothing, fills inc with the
	// stored incident and returns an error wrapping ErrDuplicate.
	CreateIncident(ctx context.Context, inc *Incident, follow func(*Incident) []jobs.Job) error
	// Incident returns the incident with this ID, or ErrNotFound.
	Incident(ctx context.Context, id int64) (*Incident, error)
	// IncidentByNumber returns the incident INC-number, or ErrNotFound.
	IncidentByNumber(ctx context.Context, number int64) (*Incident, error)
	// Room returns the room of an incident, or ErrNotFound if none is saved.
	Room(ctx context.Context, incidentID int64) (*Room, error)
	// RoomByChannel returns the room whose channel is channelID, or ErrNotFound.
	RoomByChannel(ctx context.Context, channelID string) (*Room, error)
	// SaveRoom inserts or replaces the room of r.IncidentID.
	SaveRoom(ctx context.Context, r *Room) error
}

// Service holds the incident use cases.
type Service struct {
	store Store
	clock clock.Clock
}

// NewService returns a Service over store, taking time from c.
func NewService(store Store, c clock.Clock) *Service {
	return &Service{store: store, clock: c}
}

// OpenRequest is a report of a new incident.
type OpenRequest struct {
	Title       string
	Description string
	// Severity 0 means DefaultSeverity.
	Severity Severity
	Systems  []string
	// Reporter is the chat user reporting; they are the first TDO.
	Reporter string
	// ReportedIn is where the report was made, to answer there.
	ReportedIn string
	// RequestKey makes Open idempotent: a second Open with the same key
	// returns the first incident. Empty means no key.
	RequestKey string
}

// Open validates req, records the incident (status investigating, the
// reporter as TDO) and schedules its room set-up as a durable job. created is
// false when req.RequestKey had opened an incident already; that incident is
// returned. A validation error is a *FieldError and nothing is stored.
func (s *Service) Open(ctx context.Context, req OpenRequest) (inc *Incident, created bool, err error) {
	if err := req.Validate(); err != nil {
		return nil, false, err
	}
	inc = &Incident{
		Title:       req.Title,
		Description: req.Description,
		Severity:    req.Severity,
		Status:      StatusInvestigating,
		Systems:     req.Systems,
		ReporterID:  req.Reporter,
		TDOID:       req.Reporter,
		ReportedIn:  req.ReportedIn,
		RequestKey:  req.RequestKey,
		OpenedAt:    s.clock.Now(),
	}
	err = s.store.CreateIncident(ctx, inc, func(inc *Incident) []jobs.Job {
		return []jobs.Job{ProvisionJob(inc, s.clock)}
	})
	if errors.Is(err, ErrDuplicate) {
		return inc, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("recording the incident: %w", err)
	}
	return inc, true, nil
}

// ProvisionJob returns the job that sets up inc's room, due now.
func ProvisionJob(inc *Incident, c clock.Clock) jobs.Job {
	payload, _ := json.Marshal(ProvisionPayload{IncidentID: inc.ID})
	return jobs.Job{
		Kind:    JobProvision,
		Key:     JobProvision + ":" + strconv.FormatInt(inc.ID, 10),
		Payload: payload,
		DueAt:   c.Now(),
	}
}

// Incident returns the incident with this ID.
func (s *Service) Incident(ctx context.Context, id int64) (*Incident, error) {
	return s.store.Incident(ctx, id)
}

// ByNumber returns INC-number.
func (s *Service) ByNumber(ctx context.Context, number int64) (*Incident, error) {
	return s.store.IncidentByNumber(ctx, number)
}
