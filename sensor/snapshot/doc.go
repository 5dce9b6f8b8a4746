// Package snapshot captures a process for forensics, for the sensor's snapshot
// (dump memory) task: one tar archive holding
//
//	manifest.json          pid, start time, time taken, every file with its size and
//	                       SHA-256, the memory regions read, whether it was truncated
//	proc/{cmdline,environ,status,stat,maps,limits,cgroup,mountinfo}
//	exe                    the executable (/proc/PID/exe), even if deleted from disk
//	fds.txt                each open descriptor and what it refers to
//	                       (a path, socket:[inode], pipe:[inode], ...)
//	net/{tcp,tcp6,udp,udp6,raw,raw6,unix}   the sockets of the process's network
//	                       namespace; the socket inodes in fds.txt select its own
//	memory/<start>-<end>_<perms>.bin   every readable mapping, from /proc/PID/mem
//	TRUNCATED.txt          present only when the size bound was reached: what was
//	                       left out
//
// The archive never exceeds Options.MaxBytes. Memory comes last, so a bound that
// is reached leaves every small file in the archive and cuts memory; the file
// being written when the bound is reached is cut short and both the manifest and
// TRUNCATED.txt say so.
//
// The process is pinned before anything is read: /proc/PID is opened once and
// every file is read relative to that directory, which the kernel ties to the
// process rather than to its pid. Its start time is checked through it
// (Options.StartTime), and once the process has exited the reads fail instead of
// reaching a later process given the same pid. A process that exits while it is
// captured gives an error wrapping kill.ErrGone, not an archive.
//
// Take needs Linux (snapshot.go); on other systems, where the CLI is built too,
// it fails with an error wrapping errors.ErrUnsupported.
package snapshot
