package falco

import "github.com/vigil-sec/vigil/internal/event"

// The event types and fields of Falco's socket and dup syscalls: SOCKET_CREATE
// (a packet or raw socket was made) and FD_DUP (a socket was duplicated onto
// standard input, output or error).
const (
	socketCreate = event.SocketCreate
	fdDup        = event.FDDup

	pathSocketDomain = "event/SOCKET_DOMAIN" // AF_PACKET, AF_INET, …
	pathSocketType   = "event/SOCKET_TYPE"   // SOCK_RAW, SOCK_DGRAM, …
	pathFDNumber     = "event/FD_NUMBER"     // the descriptor the socket was duplicated onto: 0, 1 or 2
)

// allTypes is every event type a Falco condition may be translated for.
func allTypes() []event.Type { return event.Types }

// fieldOf returns the kind of path on events of type t, and whether such events
// have it.
func fieldOf(path string, t event.Type) (event.Kind, bool) {
	f, err := event.Lookup(path)
	if err != nil {
		return 0, false
	}
	return f.Kind, f.AppliesTo(t)
}
