package main

import (
	"testing"

	"github.com/vigil-sec/vigil/internal/event"
)

func TestSocketDetail(t *testing.T) {
	for _, tc := range []struct {
		e    event.Event
		want string
	}{
		{event.Event{Type: event.SocketCreate, SocketDomain: "AF_PACKET", SocketType: "SOCK_RAW", SocketProtocol: 768}, "AF_PACKET SOCK_RAW protocol=768"},
		{event.Event{Type: event.FDDup, Operation: "dup2", FDNumber: 1, Protocol: "tcp", SourceIP: "10.0.0.5", SourcePort: 40000,
			DestIP: "203.0.113.9", DestPort: 4444}, "op=dup2 fd=1 proto=tcp 10.0.0.5:40000 -> 203.0.113.9:4444"},
		{event.Event{Type: event.FDDup, Operation: "dup3", Protocol: "unix"}, "op=dup3 fd=0 proto=unix"},
	} {
		if got := detail(&tc.e); got != tc.want {
			t.Errorf("%s: detail %q, want %q", tc.e.Type, got, tc.want)
		}
	}
}
