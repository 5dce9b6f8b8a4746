package testenv

import (
	"net"
	"os"
	"testing"
)

// TestListens: the listener of this process is told from one that is not.
func TestListens(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	owns, known := listens(os.Getpid(), port)
	if !known {
		t.Skip("/proc cannot tell who listens here")
	}
	if !owns {
		t.Errorf("listens(self, %d) = false, want true", port)
	}
	if owns, known := listens(os.Getppid(), port); !known || owns {
		t.Errorf("listens(parent, %d) = %v, %v; want false, true", port, owns, known)
	}
	if _, known := listens(os.Getpid(), freePort(t)); known {
		t.Error("a port no one listens on is known")
	}
}
