//go:build !linux

package netnstest

import (
	"errors"
	"fmt"
	"os"
)

// setnsFile fails: network namespaces are Linux's.
func setnsFile(*os.File) error {
	return fmt.Errorf("network namespaces: %w", errors.ErrUnsupported)
}
