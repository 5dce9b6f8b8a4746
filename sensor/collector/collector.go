package collector

import (
	"errors"
	"time"

	"github.com/vigil-sec/vigil/internal/event"
)

// DefaultRingBufferSize is the size of the kernel ring buffer when Options leaves it
// at zero: the room a storm has while user space falls behind. A record carries
// only the bytes it uses: an exec record is 56 bytes plus its path and argv (at
// most 1.6 KB), a file record 64 bytes plus its path(s).
const DefaultRingBufferSize = 16 << 20

// DefaultMaxDelay is how long a record may wait in the kernel ring buffer when
// Options leaves MaxDelay at zero.
const DefaultMaxDelay = 250 * time.Millisecond

// WakeupFraction sets when the kernel wakes the reader early: once 1/WakeupFraction
// of the ring buffer is waiting to be read (unless Options.MaxDelay is negative).
const WakeupFraction = 16

// ErrUnsupported is wrapped by the errors Supported and New return when this host
// cannot run the collector (wrong OS, not privileged, no BTF, BPF not permitted).
var ErrUnsupported = errors.New("eBPF process capture unsupported")

// DefaultFilePrefixes are the path prefixes whose file events (open, delete,
// rename, chmod, link, ...) are reported when Options.FilePrefixes is nil: where
// persistence, credentials, logs and staged payloads live (/etc holds sudoers,
// the cron tables and the systemd units an administrator adds). A prefix
// matches by plain string comparison, so "/var/spool/cron" covers
// /var/spool/crontabs too. The users' home directories outside these are
// watched for their credentials and shell files (HomeFilePrefixes), and the
// binary and library directories for changes (DefaultFileChangePrefixes).
var DefaultFilePrefixes = []string{
	"/etc/", "/root/", "/home/", "/var/spool/cron", "/usr/lib/systemd", "/lib/systemd",
	"/tmp/", "/dev/", "/var/log", "/boot", "/lib/modules", "/usr/lib/modules",
	"/run/systemd/system",
}

// DefaultFileExcludes are the prefixes left out of DefaultFilePrefixes when
// Options.FileExcludes is nil: files every process opens (the dynamic linker's
// cache is read by each exec).
var DefaultFileExcludes = []string{"/etc/ld.so.cache"}

// MaxFilePrefix is the longest path prefix the kernel filter accepts, in bytes.
const MaxFilePrefix = 128

// MaxFilePrefixes bounds FilePrefixes and FileExcludes together.
const MaxFilePrefixes = 256

// Enricher adds context the kernel record does not carry (user name, parent
// process, the path and command line of an exiting process). The collector calls
// Enrich before emitting an event and Forget after emit returns, so a table keyed
// by process can drop a process once its TERMINATE_PROCESS has been emitted.
type Enricher interface {
	// Enrich is called for every event; sharesParentCgroups is true for a
	// NEW_PROCESS the kernel saw in the same cgroups (all hierarchies) as its
	// parent at exec, false otherwise.
	Enrich(ev *event.Event, sharesParentCgroups bool)
	Forget(ev *event.Event)
}

// Options configures a Collector. The zero value is usable.
type Options struct {
	// RingBufferSize is the kernel ring buffer's size in bytes: a power of two and a
	// multiple of the page size. Zero means DefaultRingBufferSize.
	RingBufferSize int
	// MaxDelay bounds how long a record waits in the ring buffer before it is
	// read. The kernel wakes the reader only when 1/16 of the ring buffer is
	// waiting (a wakeup is an interrupt and a context switch, which a storm of
	// small records would otherwise pay for each one); below that the reader
	// polls every MaxDelay. Zero means DefaultMaxDelay; a negative value wakes the
	// reader for every record.
	MaxDelay time.Duration
	// Enricher, if set, is called for every event (see Enricher).
	Enricher Enricher
	// SensorID, Hostname and Tags are set in every event's routing fields (every
	// event shares the Tags slice: do not modify it).
	SensorID string
	Hostname string
	Tags     []string
	// FilePrefixes are the path prefixes of the files whose opens, deletions,
	// renames and mode changes are reported; the kernel drops the rest before they
	// reach user space. Nil means DefaultFilePrefixes; an empty non-nil slice
	// reports no file events. Each prefix is at most MaxFilePrefix bytes.
	FilePrefixes []string
	// FileExcludes are prefixes within FilePrefixes to leave out; the longest
	// matching prefix decides. Nil means DefaultFileExcludes.
	FileExcludes []string
	// Disable names capabilities (see Capabilities) whose kernel hooks are
	// not attached, as on a kernel that lacks them: their events are not
	// captured and Missing lists them. Tests use it to check how the sensor
	// degrades.
	Disable []string
	// Environment names the environment variables whose values at exec a
	// NEW_PROCESS reports (event/ENVIRONMENT, event/ENV/<NAME>); a name ending
	// in "*" matches every variable with that prefix. Nil means
	// DefaultEnvironment; an empty non-nil slice reports none, and the kernel
	// then does not copy environments at all.
	Environment []string
	// FileChangePrefixes are path prefixes whose files are reported when
	// changed or opened for writing, not when only read (see
	// DefaultFileChangePrefixes); the longest matching prefix of the three
	// lists decides. Nil means DefaultFileChangePrefixes if FilePrefixes is
	// nil too, else none.
	FileChangePrefixes []string

	// fallbackHooks loads the hooks meant for kernels without what this one
	// offers (tests of those): syscall exits at raw_syscalls:sys_exit even where
	// per-syscall tracepoints could be attached, and handle_exit even where
	// sched_process_exit passes group_dead.
	fallbackHooks bool
}

// Stats are the collector's counters since New.
type Stats struct {
	// Received is the number of records read from the ring buffer.
	Received uint64
	// Dropped is the number of records the kernel could not queue because the ring
	// buffer was full (summed over CPUs).
	Dropped uint64
	// Invalid is the number of records that failed to decode: never expected,
	// except datagrams to port 53 that are not DNS queries.
	Invalid uint64
	// FileFiltered is the number of file events (open, delete, rename, chmod) the
	// kernel dropped because no configured prefix matched their path;
	// FileMatched the number that matched and were passed on.
	FileFiltered uint64
	FileMatched  uint64
	// FileCached is the number of file opens of FileFiltered that the kernel
	// decided by their directory's cached verdict, without building their
	// paths (see docs/sensor.md).
	FileCached uint64
	// KernelTime is the CPU time the collector's eBPF programs have run, in the
	// context of the processes they observe: the sensor's cost that the
	// sensor's own process does not show. Zero unless the kernel keeps BPF run
	// time statistics (see EnableKernelTime).
	KernelTime time.Duration
}
