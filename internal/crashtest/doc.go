// Package crashtest holds sitrep's crash suite: tests that build the real
// sitrep binary, run `sitrep run` as a child process against
// internal/slacksim on SQLite and PostgreSQL, and kill it (-9), slow its
// Slack down, leave one of its Slack calls unanswered or cut its database,
// then count in the store and in the simulated workspace every effect that
// was lost or doubled. The package has no code outside its tests.
//
// go test ./internal/crashtest runs the short suite (about a minute);
// SITREP_CRASH_LONG=1 runs the long one (every call of every flow, 20
// kills during 500 opens, 9 s Slack calls, a 30 s database outage), which
// logs its figures with t.Log. SITREP_CRASH_SETTLE (a Go duration, default
// 30s) is how long a flow may take to finish after the last restart.
package crashtest
