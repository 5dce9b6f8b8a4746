package ocsf

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/vigil-sec/vigil/internal/event"
)

// TestMapFDDup: a TCP or UDP socket duplicated onto a standard stream is
// Network Activity with both ends; a Unix socket (no address) and a socket
// made (no endpoint at all) are not mapped.
func TestMapFDDup(t *testing.T) {
	m := &Mapper{ProductVersion: "1.2.0"}
	e := ev(event.FDDup, func(e *event.Event) {
		e.Operation, e.FDNumber, e.Protocol = "dup2", 1, "tcp"
		e.SourceIP, e.SourcePort, e.DestIP, e.DestPort = "10.0.0.5", 40000, "203.0.113.9", 4444
	})
	rec, err := m.MapEvent(&e)
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range validate(rec) {
		t.Error(err)
	}
	raw, _ := json.Marshal(rec)
	var got struct {
		ClassUID    int32 `json:"class_uid"`
		ActivityID  int32 `json:"activity_id"`
		DstEndpoint struct {
			IP   string `json:"ip"`
			Port int32  `json:"port"`
		} `json:"dst_endpoint"`
		ConnectionInfo struct {
			ProtocolName string `json:"protocol_name"`
			DirectionID  int32  `json:"direction_id"`
		} `json:"connection_info"`
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	if got.ClassUID != 4001 || got.ActivityID != 99 || got.DstEndpoint.IP != "203.0.113.9" || got.DstEndpoint.Port != 4444 ||
		got.ConnectionInfo.ProtocolName != "tcp" || got.ConnectionInfo.DirectionID != 0 {
		t.Errorf("FD_DUP mapped to %s", raw)
	}
	for _, e := range []event.Event{
		ev(event.FDDup, func(e *event.Event) { e.Protocol = "unix" }),
		ev(event.SocketCreate, func(e *event.Event) { e.SocketDomain, e.SocketType = "AF_PACKET", "SOCK_RAW" }),
	} {
		if rec, err := m.MapEvent(&e); rec != nil || !errors.Is(err, ErrUnmapped) {
			t.Errorf("%s %+v mapped: %v, %v", e.Type, e, rec, err)
		}
	}
}
