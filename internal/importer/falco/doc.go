// Package falco converts Falco rules files into Vigil D&R rules.
//
// It reads the items of a Falco rules file (rule, macro and list, with append:,
// exceptions: and enabled:) and the part of the condition language that has an
// exact meaning on Vigil events: and, or, not, parentheses; the operators =, ==,
// !=, <, <=, >, >=, contains, icontains, startswith, endswith, in (…), pmatch (…),
// glob, iglob and exists; lists (expanded inline as `op: in list` with `values:`)
// and macros (expanded where they are used).
//
// Fields and their Vigil rule paths:
//
//	proc.name      event/FILE_NAME             (basename of the executable)
//	proc.exepath   event/FILE_PATH
//	proc.cmdline   event/COMMAND_LINE          (see below)
//	proc.pname     event/PARENT/FILE_NAME
//	proc.pexepath  event/PARENT/FILE_PATH
//	proc.pcmdline  event/PARENT/COMMAND_LINE   (see below)
//	proc.aname[N]  event/ANCESTORS/<N-1>/FILE_NAME (N ≥ 1; 1 is the parent)
//	proc.aexepath[N] event/ANCESTORS/<N-1>/FILE_PATH
//	proc.apid[N]   event/ANCESTORS/<N-1>/PROCESS_ID
//	proc.pid       event/PROCESS_ID
//	proc.ppid      event/PARENT_PROCESS_ID
//	user.name      event/USER
//	user.uid       event/USER_ID
//	container.id   event/CONTAINER_ID          (Falco's "host" is an empty id)
//	fd.name        event/TARGET/FILE_PATH      (file events only)
//	fd.filename    event/TARGET/FILE_NAME      (file events only)
//	fd.sip, fd.sport  event/DESTINATION/IP_ADDRESS, event/DESTINATION/PORT (network events)
//	fd.cip, fd.cport  event/SOURCE/IP_ADDRESS, event/SOURCE/PORT           (network events)
//	fd.snet, fd.cnet  cidr on the destination / source address
//	evt.type       the rule's event types (below); evt.dir = < is always true
//
// Falco's proc.cmdline is the process name, a space and the arguments ("curl -s
// x"); Vigil's COMMAND_LINE is argv joined by spaces with argv[0] as invoked
// ("/usr/bin/curl -s x"). contains, icontains and endswith compare directly (the
// Falco text is a suffix of Vigil's); =, !=, startswith, in and glob become an RE2
// `matches` anchored at the start that lets argv[0] carry a directory:
// proc.cmdline = "curl -s x" becomes `re: ^(?:\S*/)?curl -s x$`.
//
// Event types are inferred from the condition: evt.type values map to Vigil event
// types (execve/execveat → NEW_PROCESS, open/openat/openat2 → FILE_OPEN, connect →
// NETWORK_CONNECT, accept/accept4 → NETWORK_ACCEPT, unlink/unlinkat → FILE_DELETE,
// rename/renameat/renameat2 → FILE_RENAME, chmod/fchmod/fchmodat → FILE_CHMOD,
// ptrace → PTRACE, init_module/finit_module → MODULE_LOAD, setuid/setresuid/setgid
// → PRIVILEGE_CHANGE, where the syscall itself is compared with event/OPERATION;
// creat → FILE_OPEN, link/linkat/symlink/symlinkat → FILE_LINK (evt.arg.target,
// a symbolic link's target, reads event/LINK_TARGET), mkdir/mkdirat → DIR_CREATE,
// rmdir → DIR_DELETE, mknod/mknodat → FILE_MKNOD, chown/fchown/lchown/fchownat →
// FILE_CHOWN, truncate/ftruncate → FILE_TRUNCATE),
// and the standard macros carry theirs. An and intersects the types of its
// operands, an or unites them, a not does not restrict. The condition is then
// specialised for each type (evt.type comparisons become true or false), simplified,
// and types with the same detection share one Vigil rule; a condition that needs
// different fields on different types becomes one rule per type (<name>_<type>).
// A condition whose type cannot be determined is an error naming the rule.
//
// A Vigil event type may stand for several syscalls: evt.type = execve matches every
// NEW_PROCESS (execveat too). Such a broadening is accepted where the comparison is
// not negated; negated (evt.type != execveat) it could not be expressed and is an
// error.
//
// Standard macros, unless the file defines its own of the same name:
//
//	spawned_process  NEW_PROCESS
//	outbound         NETWORK_CONNECT, ERROR_CODE 0 or 115 (EINPROGRESS, a
//	                 non-blocking connect, which Falco counts as success), destination
//	                 not loopback (127.0.0.0/8, ::1, 0.0.0.0, ::, ::ffff:127.0.0.0/104)
//	inbound          NETWORK_ACCEPT, ERROR_CODE 0, source not loopback
//	open_read        FILE_OPEN whose FILE_FLAGS include read
//	open_write       FILE_OPEN whose FILE_FLAGS include write
//	container        CONTAINER_ID exists
//	never_true, always_true
//
// Report: the rule name becomes a snake_case rule and report name; priority becomes
// severity (EMERGENCY, ALERT, CRITICAL → critical; ERROR → high; WARNING → medium;
// NOTICE → low; INFORMATIONAL, INFO, DEBUG → info); desc becomes the description
// (the output text when there is no desc); output is kept as written under output
// and rewritten to a Go template over the event tree under output_template; tags are
// kept, ATT&CK technique tags (T1059) also under mitre, and the first mitre_<tactic>
// tag names the category.
//
// Not supported, each an error naming the rule, the construct and where it is:
// other fields (proc.aname without an index, fd.directory, evt.arg.*, k8s.*, …), the operators
// intersects, bcontains, bstartswith and regex, field transformers (tolower(…)),
// pmatch with wildcards, evt.type values with no Vigil event type, container.id
// exists (always true in Falco), override:, and rules with another source than
// syscall. Disabled rules are skipped.
package falco
