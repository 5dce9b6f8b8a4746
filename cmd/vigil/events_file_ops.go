package main

import (
	"fmt"

	"github.com/vigil-sec/vigil/internal/event"
)

// fileOpDetail appends the detail of a link, directory, node, owner or
// truncation event to parts.
func fileOpDetail(parts []string, e *event.Event) []string {
	parts = append(parts, "target="+e.TargetPath)
	switch e.Type {
	case event.FileLink:
		parts = append(parts, e.LinkType+" -> "+e.LinkTarget)
	case event.DirCreate:
		parts = append(parts, fmt.Sprintf("mode=%#o", e.FileMode))
	case event.FileMknod:
		parts = append(parts, "type="+e.FileType, fmt.Sprintf("mode=%#o", e.FileMode))
	case event.FileChown:
		parts = append(parts, fmt.Sprintf("uid=%d gid=%d", e.OwnerUID, e.OwnerGID))
	case event.FileTruncate:
		parts = append(parts, fmt.Sprintf("size=%d", e.FileSize))
	}
	return parts
}
