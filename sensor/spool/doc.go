// Package spool is the sensor's disk buffer in front of the stream and the lake.
//
// Batches that could not be shipped (the backend is unreachable, or older batches
// are still waiting) are appended to the spool; the shipper replays them oldest
// first when the backend returns, and removes each one only once it was accepted.
// Every item is one file in Dir, named by a sequence number that keeps the order
// across restarts: Open reads what a previous run left and carries on after it.
//
// The spool is bounded by MaxBytes: appending beyond it evicts the oldest items,
// whatever their kind, and counts them in Stats (never silently). Files that are
// torn or corrupt (a crash in the middle of a write) are removed at Open and
// counted as Corrupt; so is a file that cannot be read back when Peek reads it.
//
// With an empty Dir the spool keeps its items in memory, with the same bound and
// counters: `vigil local` and tests use that mode.
package spool
