package dashboard

import "net/http"

// IncidentReader is what the incidents pages read. (To be filled in by the pages'
// author, with storage satisfying it.)
type IncidentReader interface{}

// incidentRoutes adds the incidents pages.
func (db *Dashboard) incidentRoutes(page func(pattern string, h http.HandlerFunc)) {}
