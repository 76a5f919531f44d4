// Package dashquery holds what the web dashboard asks of the record and
// what it gets back: the filters of the incidents list and the change
// log, a page of incidents, the incidents that judged a change suspect,
// and an incident's version (what a live page watches). Package
// web/dashboard defines the reader interfaces that take and return these
// types; storage satisfies them; cmd/sitrep wires the two. It knows
// neither HTTP nor SQL, so the dependencies point inward.
package dashquery

import (
	"time"

	"github.com/sitrep/sitrep/incident"
)

// IncidentSort names the order of the incidents list.
type IncidentSort string

// The orders of the incidents list. Ties fall back to the newest first.
const (
	SortOpened   IncidentSort = "opened"
	SortSeverity IncidentSort = "severity"
	// SortRestore orders by time to restore; incidents not restored come
	// last whichever way.
	SortRestore IncidentSort = "ttr"
)

// IncidentSorts lists the orders, for messages and menus.
func IncidentSorts() []IncidentSort { return []IncidentSort{SortOpened, SortSeverity, SortRestore} }

// IncidentFilter selects incidents for the dashboard. Its zero value is
// every incident not yet resolved, in the order they opened.
type IncidentFilter struct {
	// All keeps resolved incidents too; without it only those not yet
	// resolved are kept.
	All bool
	// Severity keeps one severity; 0 any.
	Severity incident.Severity
	// System keeps incidents naming this (normalised) system. A private
	// incident's systems are not shown outside its room, so it never
	// matches: the list would otherwise tell which systems it touched.
	System string
	// Problem keeps incidents linked to PRB-<Problem>; 0 any.
	Problem int64
	// CostClass keeps incidents priced in that class; NoCost those with
	// no cost entered. Both unset: any.
	CostClass incident.CostClass
	NoCost    bool
	// From and To bound the opening time: From inclusive, To exclusive;
	// zero is unbounded.
	From, To time.Time
	// Sort and Desc order the list; "" is SortOpened.
	Sort IncidentSort
	Desc bool
	// Offset and Limit page it; Limit 0 is 50.
	Offset, Limit int
}

// IncidentPage is one page of the incidents list.
type IncidentPage struct {
	// Incidents are the page's, as stored (not redacted).
	Incidents []incident.Incident
	// Total counts every incident the filter keeps, on every page.
	Total int
	// ByStatus counts the incidents the filter keeps by status, with
	// resolved ones counted even when the filter leaves them out (All
	// false), so the page can say how many it hides.
	ByStatus map[incident.Status]int
}

// ChangeFilter selects changes for the dashboard. Its zero value is every
// change, newest first.
type ChangeFilter struct {
	// System keeps changes to this (normalised) system.
	System string
	// People keeps changes made by any of these people, each a user ID or
	// a name as logged, ignoring case; none: anyone.
	People []string
	// Kind keeps one kind of change.
	Kind incident.ChangeKind
	// Text keeps changes whose summary or reason holds it, ignoring
	// case; it is matched as written (% and _ are not wildcards).
	Text string
	// Since and Until bound when the change happened: Since inclusive,
	// Until exclusive; zero is unbounded.
	Since, Until time.Time
	// Offset and Limit page it; Limit 0 is 50.
	Offset, Limit int
}

// SuspectRef is an incident whose room judged a change suspect.
type SuspectRef struct {
	// Number is the incident's: INC-<Number>.
	Number int64
	// Private says its details are for its room's members; its number
	// may be shown.
	Private bool
}

// IncidentVersion is what changes when an incident does, cheap to read:
// the dashboard polls it to tell a page following the incident to update.
type IncidentVersion struct {
	Status   incident.Status
	Severity incident.Severity
	TDOID    string
	Closed   bool
	// LastEntry is the ID of its newest timeline entry.
	LastEntry int64
}
