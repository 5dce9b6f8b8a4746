// Package pkgdb tells which installed package owns an executable, from the
// host's package database: dpkg's file lists (/var/lib/dpkg/info/*.list, Debian
// and Ubuntu) and apk's installed database (/lib/apk/db/installed, Alpine).
// rpm keeps its file lists in a Berkeley DB or SQLite database that the sensor
// does not read: on rpm hosts the database is reported as absent.
//
// Paths are compared as the kernel reports executables, with symbolic links of
// their directories resolved: on a merged-/usr system dpkg lists /bin/ls while
// an exec of it reports /usr/bin/ls, and both are known.
//
// The database is read at start and again, in the background, when it changes
// (the modification time of the dpkg info directory and status file, or of
// apk's installed file, checked at most once per Interval): an executable
// installed by a package during the run is owned once the reload completes.
// A host with a hundred thousand packaged files costs about 10 MB.
package pkgdb
