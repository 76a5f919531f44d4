package dashboard

import "net/http"

// TrendReader is what the trends pages read. (To be filled in by the pages'
// author, with storage satisfying it.)
type TrendReader interface{}

// trendRoutes adds the trends pages.
func (db *Dashboard) trendRoutes(page func(pattern string, h http.HandlerFunc)) {}
