// Package task defines a sensor task: a response action (isolate, rejoin, kill,
// snapshot, ...) that a sensor carries out on its host. The response workflow and the
// API create tasks; sensors poll theirs, run each at most once and report the result.
// Like package event it is a plain data type and imports nothing else from Vigil.
package task
