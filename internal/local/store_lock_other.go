//go:build !unix

package local

import "os"

// lockDir does not lock where flock is unavailable: one process per store
// directory is then up to the user.
func lockDir(string) (*os.File, error) { return nil, nil }

func unlockDir(*os.File) {}
