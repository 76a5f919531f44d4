package dashboard

import "net/http"

// ProblemReader is what the problems pages read. (To be filled in by the pages'
// author, with storage satisfying it.)
type ProblemReader interface{}

// problemRoutes adds the problems pages.
func (db *Dashboard) problemRoutes(page func(pattern string, h http.HandlerFunc)) {}
