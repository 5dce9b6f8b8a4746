package ocsf

import (
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/detect"
	"github.com/vigil-sec/vigil/internal/event"
)

// Version is the OCSF schema version the mapping follows.
const Version = "1.1.0"

// Class and category ids.
const (
	ClassFileSystemActivity = 1001
	ClassProcessActivity    = 1007
	ClassDetectionFinding   = 2004
	ClassNetworkActivity    = 4001

	CategorySystem   = 1
	CategoryFindings = 2
	CategoryNetwork  = 4
)

// Severity ids.
const (
	SeverityUnknown       = 0
	SeverityInformational = 1
	SeverityLow           = 2
	SeverityMedium        = 3
	SeverityHigh          = 4
	SeverityCritical      = 5
)

var severityNames = map[int32]string{0: "Unknown", 1: "Informational", 2: "Low", 3: "Medium", 4: "High", 5: "Critical"}

// SeverityID maps a Vigil severity (info, low, medium, high, critical).
func SeverityID(s string) int32 {
	switch strings.ToLower(s) {
	case "info":
		return SeverityInformational
	case "low":
		return SeverityLow
	case "medium":
		return SeverityMedium
	case "high":
		return SeverityHigh
	case "critical":
		return SeverityCritical
	}
	return SeverityUnknown
}

// ErrUnmapped is returned (wrapped) for an event with no OCSF mapping here: its
// type has none, or it lacks what its class requires (a file event's target path,
// a network event's address).
var ErrUnmapped = errors.New("no OCSF mapping for this event")

// Product names the producer in metadata.product.
type Product struct {
	Name       string `json:"name" parquet:"name"`
	VendorName string `json:"vendor_name" parquet:"vendor_name"`
	Version    string `json:"version,omitempty" parquet:"version,optional"`
}

// Metadata is OCSF's metadata object.
type Metadata struct {
	Product    Product  `json:"product" parquet:"product"`
	Version    string   `json:"version" parquet:"version"`
	UID        string   `json:"uid,omitempty" parquet:"uid,optional"`
	Labels     []string `json:"labels,omitempty" parquet:"labels,list"`
	LoggedTime int64    `json:"logged_time,omitempty" parquet:"logged_time,optional"`
}

// OS is OCSF's os object.
type OS struct {
	Name   string `json:"name" parquet:"name"`
	TypeID int32  `json:"type_id" parquet:"type_id"`
	Type   string `json:"type,omitempty" parquet:"type,optional"`
}

// Device is OCSF's device object: the host the sensor runs on.
type Device struct {
	Hostname string `json:"hostname,omitempty" parquet:"hostname,optional"`
	UID      string `json:"uid,omitempty" parquet:"uid,optional"`
	TypeID   int32  `json:"type_id" parquet:"type_id"`
	Type     string `json:"type,omitempty" parquet:"type,optional"`
	OS       *OS    `json:"os,omitempty" parquet:"os,optional"`
}

// User is OCSF's user object.
type User struct {
	Name string `json:"name,omitempty" parquet:"name,optional"`
	UID  string `json:"uid,omitempty" parquet:"uid,optional"`
}

// File is OCSF's file object.
type File struct {
	Name   string `json:"name" parquet:"name"`
	Path   string `json:"path,omitempty" parquet:"path,optional"`
	TypeID int32  `json:"type_id" parquet:"type_id"`
	Type   string `json:"type,omitempty" parquet:"type,optional"`
}

// ParentProcess is a process object without its own parent (Parquet schemas cannot
// recurse).
type ParentProcess struct {
	PID     int32  `json:"pid,omitempty" parquet:"pid,optional"`
	Name    string `json:"name,omitempty" parquet:"name,optional"`
	CmdLine string `json:"cmd_line,omitempty" parquet:"cmd_line,optional"`
	File    *File  `json:"file,omitempty" parquet:"file,optional"`
}

// Process is OCSF's process object.
type Process struct {
	PID           int32          `json:"pid,omitempty" parquet:"pid,optional"`
	Name          string         `json:"name,omitempty" parquet:"name,optional"`
	CmdLine       string         `json:"cmd_line,omitempty" parquet:"cmd_line,optional"`
	File          *File          `json:"file,omitempty" parquet:"file,optional"`
	User          *User          `json:"user,omitempty" parquet:"user,optional"`
	ParentProcess *ParentProcess `json:"parent_process,omitempty" parquet:"parent_process,optional"`
}

// Actor is OCSF's actor object.
type Actor struct {
	Process *Process `json:"process,omitempty" parquet:"process,optional"`
	User    *User    `json:"user,omitempty" parquet:"user,optional"`
}

// Endpoint is OCSF's network_endpoint object.
type Endpoint struct {
	IP       string `json:"ip,omitempty" parquet:"ip,optional"`
	Port     int32  `json:"port,omitempty" parquet:"port,optional"`
	Hostname string `json:"hostname,omitempty" parquet:"hostname,optional"`
}

// ConnectionInfo is OCSF's network_connection_info object.
type ConnectionInfo struct {
	ProtocolName string `json:"protocol_name,omitempty" parquet:"protocol_name,optional"`
	DirectionID  int32  `json:"direction_id" parquet:"direction_id"`
	Direction    string `json:"direction,omitempty" parquet:"direction,optional"`
}

// Base holds the attributes every class has, embedded in each class so that they
// stand flat at the top level (in JSON and Parquet alike), as OCSF has them.
type Base struct {
	ClassUID     int32    `json:"class_uid" parquet:"class_uid"`
	CategoryUID  int32    `json:"category_uid" parquet:"category_uid"`
	ActivityID   int32    `json:"activity_id" parquet:"activity_id"`
	ActivityName string   `json:"activity_name" parquet:"activity_name"`
	TypeUID      int64    `json:"type_uid" parquet:"type_uid"`
	TypeName     string   `json:"type_name" parquet:"type_name"`
	ClassName    string   `json:"class_name" parquet:"class_name"`
	SeverityID   int32    `json:"severity_id" parquet:"severity_id"`
	Severity     string   `json:"severity" parquet:"severity"`
	Time         int64    `json:"time" parquet:"time,timestamp(millisecond)"`
	Metadata     Metadata `json:"metadata" parquet:"metadata"`
}

// base fills the attributes every class has.
func base(class, category, activity int32, activityName, className string, sev int32, t time.Time, md Metadata) Base {
	return Base{ClassUID: class, CategoryUID: category, ActivityID: activity, ActivityName: activityName,
		TypeUID: int64(class)*100 + int64(activity), TypeName: className + ": " + activityName, ClassName: className,
		SeverityID: sev, Severity: severityNames[sev], Time: t.UnixMilli(), Metadata: md}
}

// ProcessActivity is class 1007.
type ProcessActivity struct {
	Base
	Device   Device  `json:"device" parquet:"device"`
	Actor    Actor   `json:"actor" parquet:"actor"`
	Process  Process `json:"process" parquet:"process"`
	ExitCode *int32  `json:"exit_code,omitempty" parquet:"exit_code,optional"`
	StatusID int32   `json:"status_id,omitempty" parquet:"status_id,optional"`
}

// FileSystemActivity is class 1001.
type FileSystemActivity struct {
	Base
	Device     Device `json:"device" parquet:"device"`
	Actor      Actor  `json:"actor" parquet:"actor"`
	File       File   `json:"file" parquet:"file"`
	FileResult *File  `json:"file_result,omitempty" parquet:"file_result,optional"`
}

// NetworkActivity is class 4001.
type NetworkActivity struct {
	Base
	Device         Device          `json:"device" parquet:"device"`
	Actor          *Actor          `json:"actor,omitempty" parquet:"actor,optional"`
	SrcEndpoint    *Endpoint       `json:"src_endpoint,omitempty" parquet:"src_endpoint,optional"`
	DstEndpoint    *Endpoint       `json:"dst_endpoint,omitempty" parquet:"dst_endpoint,optional"`
	ConnectionInfo *ConnectionInfo `json:"connection_info,omitempty" parquet:"connection_info,optional"`
	StatusID       int32           `json:"status_id,omitempty" parquet:"status_id,optional"`
	StatusCode     string          `json:"status_code,omitempty" parquet:"status_code,optional"`
}

// Analytic is OCSF's analytic object: the rule that detected.
type Analytic struct {
	Name     string `json:"name,omitempty" parquet:"name,optional"`
	UID      string `json:"uid,omitempty" parquet:"uid,optional"`
	TypeID   int32  `json:"type_id" parquet:"type_id"`
	Type     string `json:"type,omitempty" parquet:"type,optional"`
	Category string `json:"category,omitempty" parquet:"category,optional"`
}

// FindingInfo is OCSF's finding_info object.
type FindingInfo struct {
	UID           string    `json:"uid" parquet:"uid"`
	Title         string    `json:"title" parquet:"title"`
	Types         []string  `json:"types,omitempty" parquet:"types,list"`
	Analytic      *Analytic `json:"analytic,omitempty" parquet:"analytic,optional"`
	FirstSeenTime int64     `json:"first_seen_time,omitempty" parquet:"first_seen_time,optional"`
}

// Evidence is OCSF's evidences object: what the rule matched.
type Evidence struct {
	Actor       *Actor    `json:"actor,omitempty" parquet:"actor,optional"`
	Process     *Process  `json:"process,omitempty" parquet:"process,optional"`
	File        *File     `json:"file,omitempty" parquet:"file,optional"`
	SrcEndpoint *Endpoint `json:"src_endpoint,omitempty" parquet:"src_endpoint,optional"`
	DstEndpoint *Endpoint `json:"dst_endpoint,omitempty" parquet:"dst_endpoint,optional"`
}

// Resource is OCSF's resource_details object.
type Resource struct {
	UID  string `json:"uid,omitempty" parquet:"uid,optional"`
	Name string `json:"name,omitempty" parquet:"name,optional"`
	Type string `json:"type,omitempty" parquet:"type,optional"`
}

// DetectionFinding is class 2004.
type DetectionFinding struct {
	Base
	FindingInfo FindingInfo `json:"finding_info" parquet:"finding_info"`
	Device      *Device     `json:"device,omitempty" parquet:"device,optional"`
	Evidences   []Evidence  `json:"evidences,omitempty" parquet:"evidences,list"`
	Resources   []Resource  `json:"resources,omitempty" parquet:"resources,list"`
	StatusID    int32       `json:"status_id" parquet:"status_id"`
	Status      string      `json:"status,omitempty" parquet:"status,optional"`
	IsAlert     bool        `json:"is_alert" parquet:"is_alert"`
	Message     string      `json:"message,omitempty" parquet:"message,optional"`
}

// Mapper maps events and detections; ProductVersion goes to metadata.product.version.
type Mapper struct {
	ProductVersion string
}

func (m *Mapper) metadata(uid string, tags []string) Metadata {
	return Metadata{Product: Product{Name: "Vigil", VendorName: "Vigil", Version: m.ProductVersion}, Version: Version, UID: uid, Labels: tags}
}

func device(e *event.Event) Device {
	return Device{Hostname: e.Hostname, UID: e.SensorID, TypeID: 0, Type: "Unknown", OS: &OS{Name: "Linux", TypeID: 200, Type: "Linux"}}
}

func file(p string) *File {
	if p == "" {
		return nil
	}
	return &File{Name: path.Base(p), Path: p, TypeID: 1, Type: "Regular File"}
}

func user(name string, uid uint32) *User {
	return &User{Name: name, UID: fmt.Sprint(uid)}
}

// process is the event's acting process (with its parent).
func process(e *event.Event) *Process {
	p := &Process{PID: int32(e.PID), CmdLine: e.CommandLine, File: file(e.FilePath), User: user(e.User, e.UID)}
	if e.FilePath != "" {
		p.Name = path.Base(e.FilePath)
	}
	if e.PPID != 0 || e.ParentFilePath != "" {
		p.ParentProcess = &ParentProcess{PID: int32(e.PPID), CmdLine: e.ParentCommandLine, File: file(e.ParentFilePath)}
		if e.ParentFilePath != "" {
			p.ParentProcess.Name = path.Base(e.ParentFilePath)
		}
	}
	return p
}

// parent is the acting process's parent as a process (the actor of a launch).
func parent(e *event.Event) *Process {
	p := &Process{PID: int32(e.PPID), CmdLine: e.ParentCommandLine, File: file(e.ParentFilePath)}
	if e.ParentFilePath != "" {
		p.Name = path.Base(e.ParentFilePath)
	}
	if e.GrandparentPath != "" {
		p.ParentProcess = &ParentProcess{Name: path.Base(e.GrandparentPath), CmdLine: e.GrandparentCmd, File: file(e.GrandparentPath)}
	}
	return p
}

// MapEvent maps one event to *ProcessActivity, *FileSystemActivity or
// *NetworkActivity, or returns an error wrapping ErrUnmapped.
func (m *Mapper) MapEvent(e *event.Event) (any, error) {
	t := time.Unix(0, e.TimeNanos)
	md := m.metadata(e.ID, e.Tags)
	switch e.Type {
	case event.NewProcess, event.TerminateProcess, event.Ptrace, event.PrivilegeChange:
		var act int32
		var name string
		r := &ProcessActivity{Base: Base{Metadata: md}, Device: device(e)}
		switch e.Type {
		case event.NewProcess:
			act, name = 1, "Launch"
			r.Actor = Actor{Process: parent(e)}
			r.Process = *process(e)
		case event.TerminateProcess:
			act, name = 2, "Terminate"
			p := process(e)
			r.Actor, r.Process = Actor{Process: p}, *p
			code := e.ExitCode
			r.ExitCode = &code
		case event.Ptrace:
			act, name = 3, "Open"
			r.Actor = Actor{Process: process(e)}
			r.Process = Process{PID: int32(e.TargetPID)}
		case event.PrivilegeChange:
			act, name = 5, "Set User ID"
			p := process(e)
			r.Actor = Actor{Process: p}
			r.Process = *p
			r.Process.User = &User{UID: fmt.Sprint(e.NewUID)}
		}
		r.Base = base(ClassProcessActivity, CategorySystem, act, name, "Process Activity", SeverityInformational, t, r.Metadata)
		return r, nil
	case event.FileOpen, event.FileDelete, event.FileRename, event.FileChmod,
		event.FileLink, event.DirCreate, event.DirDelete, event.FileMknod, event.FileChown, event.FileTruncate:
		var act int32
		var name string
		r := &FileSystemActivity{Base: Base{Metadata: md}, Device: device(e), Actor: Actor{Process: process(e)}}
		target := file(e.TargetPath)
		if target == nil {
			return nil, fmt.Errorf("ocsf: %s event %s has no target path: %w", e.Type, e.ID, ErrUnmapped)
		}
		r.File = *target
		switch e.Type {
		case event.FileOpen:
			flags := "," + e.FileFlags + ","
			switch {
			case strings.Contains(flags, ",create,"):
				act, name = 1, "Create"
			case strings.Contains(flags, ",write,") || strings.Contains(flags, ",truncate,"):
				act, name = 3, "Update"
			case strings.Contains(flags, ",read,"):
				act, name = 2, "Read"
			default:
				act, name = 14, "Open"
			}
		case event.FileDelete:
			act, name = 4, "Delete"
		case event.FileRename:
			act, name = 5, "Rename"
			if old := file(e.OldTargetPath); old != nil {
				r.File, r.FileResult = *old, target
			}
		case event.FileChmod:
			act, name = 7, "Set Security"
		default:
			act, name = fileOpActivity(e.Type)
		}
		r.Base = base(ClassFileSystemActivity, CategorySystem, act, name, "File System Activity", SeverityInformational, t, r.Metadata)
		return r, nil
	case event.NetworkConnect, event.NetworkAccept, event.NetworkListen, event.FDDup:
		r := &NetworkActivity{Base: Base{Metadata: md}, Device: device(e), Actor: &Actor{Process: process(e)}}
		if e.SourceIP != "" || e.SourcePort != 0 {
			r.SrcEndpoint = &Endpoint{IP: e.SourceIP, Port: int32(e.SourcePort)}
		}
		if e.DestIP != "" || e.DestPort != 0 {
			r.DstEndpoint = &Endpoint{IP: e.DestIP, Port: int32(e.DestPort)}
		}
		if r.SrcEndpoint == nil && r.DstEndpoint == nil {
			return nil, fmt.Errorf("ocsf: %s event %s has no address: %w", e.Type, e.ID, ErrUnmapped)
		}
		ci := &ConnectionInfo{ProtocolName: strings.ToLower(e.Protocol), DirectionID: 2, Direction: "Outbound"}
		act, name := int32(1), "Open"
		switch e.Type {
		case event.NetworkAccept:
			ci.DirectionID, ci.Direction = 1, "Inbound"
		case event.NetworkListen:
			// the listening address is the one connections will reach; 1.1.0
			// has no Listen activity (later versions do): Other, named Listen
			ci.DirectionID, ci.Direction = 1, "Inbound"
			act, name = 99, "Listen"
		case event.FDDup:
			// a standard stream put onto a connection, which the dup
			// neither opens nor closes, nor says the direction of
			ci.DirectionID, ci.Direction = 0, "Unknown"
			act, name = 99, "Other"
		}
		r.ConnectionInfo = ci
		r.StatusID = 1
		if e.ErrorCode != 0 {
			act, name = 4, "Fail"
			r.StatusID, r.StatusCode = 2, fmt.Sprint(e.ErrorCode)
		}
		r.Base = base(ClassNetworkActivity, CategoryNetwork, act, name, "Network Activity", SeverityInformational, t, r.Metadata)
		return r, nil
	}
	return nil, fmt.Errorf("ocsf: %s: %w", e.Type, ErrUnmapped)
}

// MapDetection maps a detection to a Detection Finding (activity 1 Create).
func (m *Mapper) MapDetection(d *detect.Detection) *DetectionFinding {
	e := &d.Event
	sev := SeverityID(d.Severity)
	dev := device(e)
	r := &DetectionFinding{
		Base: Base{Metadata: m.metadata(d.ID, e.Tags)},
		FindingInfo: FindingInfo{UID: d.ID, Title: d.Name, Types: []string{d.Category},
			Analytic:      &Analytic{Name: d.Rule, UID: d.Rule, TypeID: 1, Type: "Rule", Category: d.Category},
			FirstSeenTime: d.Time.UnixMilli()},
		Device:    &dev,
		Resources: []Resource{{UID: e.SensorID, Name: e.Hostname, Type: "host"}},
		StatusID:  1, Status: "New", IsAlert: true,
		Message: fmt.Sprintf("%s on %s", d.Name, e.Hostname),
	}
	if d.Category == "" {
		r.FindingInfo.Types = nil
	}
	ev := Evidence{Process: process(e)}
	if e.PPID != 0 {
		ev.Actor = &Actor{Process: parent(e)}
	}
	ev.File = file(e.TargetPath)
	if e.SourceIP != "" {
		ev.SrcEndpoint = &Endpoint{IP: e.SourceIP, Port: int32(e.SourcePort)}
	}
	if e.DestIP != "" {
		ev.DstEndpoint = &Endpoint{IP: e.DestIP, Port: int32(e.DestPort)}
	}
	r.Evidences = []Evidence{ev}
	r.Base = base(ClassDetectionFinding, CategoryFindings, 1, "Create", "Detection Finding", sev, d.Time, r.Metadata)
	return r
}
