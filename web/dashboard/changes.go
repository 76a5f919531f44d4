package dashboard

import "net/http"

// ChangeReader is what the changes pages read. (To be filled in by the pages'
// author, with storage satisfying it.)
type ChangeReader interface{}

// changeRoutes adds the changes pages.
func (db *Dashboard) changeRoutes(page func(pattern string, h http.HandlerFunc)) {}
