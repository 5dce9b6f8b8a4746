package ocsf

import (
	"testing"

	"github.com/vigil-sec/vigil/internal/event"
)

// fdDupEvent is a reverse shell's stdout: a TCP connection duplicated onto 1.
func fdDupEvent() event.Event {
	return ev(event.FDDup, func(e *event.Event) {
		e.Operation, e.FDNumber, e.Protocol = "dup2", 1, "tcp"
		e.SourceIP, e.SourcePort, e.DestIP, e.DestPort = "10.0.0.5", 40000, "203.0.113.9", 4444
	})
}

// TestMapFDDup: an FD_DUP is Network Activity with both ends of its socket
// and no direction (TestMapEvents checks its class and activity).
func TestMapFDDup(t *testing.T) {
	e := fdDupEvent()
	rec, err := (&Mapper{}).MapEvent(&e)
	if err != nil {
		t.Fatal(err)
	}
	na := rec.(*NetworkActivity)
	if na.SrcEndpoint.Port != 40000 || na.DstEndpoint.IP != "203.0.113.9" || na.DstEndpoint.Port != 4444 ||
		na.ConnectionInfo.ProtocolName != "tcp" || na.ConnectionInfo.DirectionID != 0 || na.ConnectionInfo.Direction != "Unknown" {
		t.Errorf("FD_DUP mapped to %+v %+v %+v", na.SrcEndpoint, na.DstEndpoint, na.ConnectionInfo)
	}
}
