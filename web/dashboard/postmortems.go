package dashboard

import "net/http"

// PostmortemReader is what the postmortems pages read. (To be filled in by the pages'
// author, with storage satisfying it.)
type PostmortemReader interface{}

// postmortemRoutes adds the postmortems pages.
func (db *Dashboard) postmortemRoutes(page func(pattern string, h http.HandlerFunc)) {}
