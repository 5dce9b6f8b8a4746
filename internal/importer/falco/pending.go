package falco

import "github.com/vigil-sec/vigil/internal/event"

// Two event types are being added to the sensor and the event model: SOCKET_CREATE
// (a packet or raw socket was made: socket(2)) and FD_DUP (a socket was duplicated
// onto standard input, output or error: dup, dup2, dup3). The importer maps Falco's
// socket and dup syscalls and their arguments onto them now; a rule on either is
// emitted once this build's event model has the type (event.KnownType), and until
// then it is skipped with that reason. This file is the one place that knows them:
// when internal/event has both types and their fields, pendingFields can go and
// nothing else changes.
const (
	socketCreate event.Type = "SOCKET_CREATE"
	fdDup        event.Type = "FD_DUP"

	pathSocketDomain = "event/SOCKET_DOMAIN" // AF_PACKET, AF_INET, …
	pathSocketType   = "event/SOCKET_TYPE"   // SOCK_RAW, SOCK_DGRAM, …
	pathFDNumber     = "event/FD_NUMBER"     // the descriptor the socket was duplicated onto: 0, 1 or 2
)

// pendingFields are the event-specific fields of the pending types (they carry the
// acting process's fields too).
var pendingFields = map[event.Type]map[string]event.Kind{
	socketCreate: {pathSocketDomain: event.String, pathSocketType: event.String},
	fdDup: {pathFDNumber: event.Number, "event/DESTINATION/IP_ADDRESS": event.String,
		"event/DESTINATION/PORT": event.Number, "event/PROTOCOL": event.String},
}

// knownType reports whether this build's event model has event type t. A variable
// so that the tests can check the translation onto the pending types.
var knownType = event.KnownType

// allTypes is every event type a Falco condition may be translated for: the event
// model's, then the pending ones it does not have yet.
func allTypes() []event.Type {
	out := append([]event.Type(nil), event.Types...)
	for _, t := range []event.Type{socketCreate, fdDup} {
		if !event.KnownType(t) {
			out = append(out, t)
		}
	}
	return out
}

// fieldOf returns the kind of path on events of type t, and whether such events
// have it.
func fieldOf(path string, t event.Type) (event.Kind, bool) {
	f, err := event.Lookup(path)
	if event.KnownType(t) {
		if err != nil {
			return 0, false
		}
		return f.Kind, f.AppliesTo(t)
	}
	if k, ok := pendingFields[t][path]; ok {
		return k, true
	}
	if err != nil || !isProcessType(t) {
		return 0, false
	}
	// The acting process's fields: those of every process event type.
	return f.Kind, f.AppliesTo(event.TerminateProcess)
}

func isProcessType(t event.Type) bool {
	if _, ok := pendingFields[t]; ok {
		return true
	}
	f, _ := event.Lookup("event/PROCESS_ID")
	return f.AppliesTo(t)
}
