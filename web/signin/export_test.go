package signin

// HashID is hashID, for benchmarks that seed sessions.
var HashID = hashID
