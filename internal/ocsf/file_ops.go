package ocsf

import "github.com/vigil-sec/vigil/internal/event"

// fileOpActivity is the File System Activity of a link, directory, node,
// owner change or truncation event.
func fileOpActivity(t event.Type) (int32, string) {
	switch t {
	case event.DirDelete:
		return 4, "Delete"
	case event.FileChown:
		return 7, "Set Security"
	case event.FileTruncate:
		return 3, "Update"
	}
	return 1, "Create" // FILE_LINK, DIR_CREATE, FILE_MKNOD
}
