// Package falco converts Falco rules files into Vigil D&R rules, as Falco loads
// them.
//
// # Sets of files
//
// ConvertSet takes an ordered list of files and converts them as one rule set
// (falco_rules.yaml, then the incubating and sandbox files, then the user's):
// later files use the lists, macros and rules of earlier ones and change them.
// Convert is the one-file case. The loader (load.go) follows Falco:
//
//   - An item defined again replaces the earlier one (a rule keeps its place).
//   - append: true appends a list's items, a macro's condition (after a space), a
//     rule's condition and exceptions (values of an exception of the same name, or
//     a new exception); override: says key by key whether an item appends to or
//     replaces the earlier one (lists: items; macros: condition; rules: condition,
//     output, desc, tags, exceptions appended or replaced, priority and enabled
//     replaced). A rule name with enabled: alone switches an earlier rule. An append
//     or override of something never defined before it, a key an override item does
//     not list, and append: with override: are errors naming the file and line:
//     Falco refuses such a set, and so does ConvertSet.
//   - A list's item naming a list defined before it stands for that list's items;
//     one naming a list defined after it is text, with a warning (as in Falco).
//   - required_engine_version is accepted; required_plugin_versions too: the
//     container plugin is Vigil's own container fields, any other plugin is noted
//     on its file's rules, which are skipped with it when they depend on it (its
//     source, a field Vigil does not know).
//   - Rules of source k8s_audit match K8S_AUDIT events (fields_ka.go: ka.* and
//     jevt.value[/stage], list fields compared as the k8saudit plugin compares
//     them); rules of another source than syscall and k8s_audit are skipped: the
//     source is not supported yet.
//   - Macros are looked up in the set first; Vigil's standard macros
//     (spawned_process, open_read, open_write, outbound, inbound, container,
//     never_true, always_true) stand in only for a macro the set does not define.
//
// In a condition's (…) of in, pmatch or intersects, an unquoted word naming a list
// of the set stands for its items. A word that is no list of the set but looks like
// a list's name (lower-case words joined by underscores, the last a plural or
// "list", or the first user, known, allowed or trusted: shell_binaries) is an
// error for the rule, not text: it is a list of a file missing from the set. Other
// undefined words with underscores (process names such as unix_chkpwd) are text,
// as Falco takes them, with a warning; quoted words, exception values and 15
// character process names (cut by the kernel) are text.
//
// # Outcomes
//
// Each rule becomes an Outcome: Converted (its whole condition is expressed),
// Narrowed (converted with part of the condition dropped: the Notes name it) or
// Skipped (the Reason names the file, line, rule and construct). Rules the files
// disable are converted all the same and marked Disabled. A part is dropped when
// it can only hold on events the sensor does not report (an or branch on recvfrom,
// a syscall of an evt.type list such as sendfile) or when it reads metadata Vigil
// events do not carry (container.image.repository, container.name, k8s.ns.name,
// k8s.pod.name, …), which then reads as Falco reads it when the container
// runtime gives no metadata: empty (container.name is "host" on the host). The
// note names the largest part of the condition the missing value decides (an
// exclusion macro). Notes also tell approximations (container.privileged,
// thread.cap_permitted, proc.env).
//
// # Event types
//
// The event types are inferred from the condition: evt.type values map to Vigil
// event types (syscalls.go: execve, execveat → NEW_PROCESS; open, openat, openat2,
// creat, open_by_handle_at → FILE_OPEN; connect, and sendto, sendmsg, sendmmsg
// (the first datagram of a UDP socket to each destination) → NETWORK_CONNECT;
// accept, accept4 → NETWORK_ACCEPT; listen → NETWORK_LISTEN; unlink, unlinkat →
// FILE_DELETE; rmdir, unlinkat → DIR_DELETE; rename* → FILE_RENAME; chmod* →
// FILE_CHMOD; link, linkat, symlink, symlinkat → FILE_LINK; mkdir, mkdirat →
// DIR_CREATE; mknod* → FILE_MKNOD (told apart by event/OPERATION); *chown* → FILE_CHOWN; truncate, ftruncate →
// FILE_TRUNCATE; ptrace → PTRACE; init_module, finit_module → MODULE_LOAD; the
// set*id family and capset → PRIVILEGE_CHANGE; setns, unshare, clone, clone3 →
// NAMESPACE_CHANGE; mount, move_mount → MOUNT; umount, umount2 → UNMOUNT; bpf →
// BPF_LOAD; memfd_create → MEMFD_CREATE; userfaultfd → USERFAULTFD; procexit →
// TERMINATE_PROCESS; socket → SOCKET_CREATE; dup, dup2, dup3, fcntl → FD_DUP,
// told apart by event/OPERATION), and the standard
// macros carry theirs. An and intersects the types of its operands, an or unites
// them, a not does not restrict. The condition is then translated for each type
// (evt.type comparisons become true, false, or the field that tells a type's
// syscalls apart: event/OPERATION, event/LINK_TYPE), simplified, and types with
// the same detection share one Vigil rule; a condition that needs different fields
// on different types becomes one rule per type (<name>_<type>). A Vigil event type
// that stands for several syscalls Vigil cannot tell apart (execve and execveat) is
// accepted where the comparison is not negated and is an error where it is. A
// syscall Falco knows that no Vigil event reports is dropped with a note; a rule
// left with none is skipped.
//
// # Fields
//
// A field with no value on an event type (fd.name on an exec, evt.arg.oldpath on
// an unlink) makes every comparison false, as in Falco. The fields:
//
//	proc.name, proc.pname        event/FILE_NAME, event/PARENT/FILE_NAME: the executable's
//	                             file name; a 15-character value (the kernel's cut of a
//	                             process name) matches the names it begins
//	proc.aname[N]                N = 0 the process, else event/ANCESTORS/<N-1>/FILE_NAME
//	proc.aname                   any ancestor: a match on event/ANCESTORS/*/FILE_PATH
//	proc.exepath, pexepath, aexepath[N], aexepath   FILE_PATH of the process, parent, ancestors
//	                             (memfd:<name> is /memfd:<name> (deleted))
//	proc.exe                     event/ARGS/0 (argv[0])
//	proc.pexe, proc.aexe[N], aexe   the first word of the parent's, ancestor's command line
//	proc.cmdline, pcmdline, acmdline   COMMAND_LINE; anchored comparisons let argv[0] carry a
//	                             directory (Falco's is name + arguments)
//	proc.args                    what follows the command line's first word
//	proc.cwd                     event/CWD (Falco's ends with /, Vigil's does not)
//	proc.tty                     event/HAS_TTY: only = 0 and != 0
//	proc.pid, ppid, vpid, apid[N]   PROCESS_ID, PARENT_PROCESS_ID, VPID, ANCESTORS/<N-1>/PROCESS_ID
//	proc.apid                    any ancestor's pid (of the 64 an event may list)
//	proc.duration                event/PROCESS_AGE
//	proc.is_exe_upper_layer      event/EXE_UPPER_LAYER
//	proc.is_exe_from_memfd       FILE_PATH starts with /memfd:
//	proc.env, proc.env[NAME]     event/ENVIRONMENT (contains), event/ENV/NAME (NEW_PROCESS;
//	                             only the variables the sensor keeps)
//	user.name, user.uid, group.gid   USER, USER_ID, GROUP_ID
//	user.loginuid                LOGIN_USER_ID (-1 is 4294967295)
//	thread.cap_effective         event/CAPABILITIES (contains a name); cap_permitted reads it too
//	container.id                 CONTAINER_ID (host is none; exists is always true)
//	container.privileged         in a container with CAP_SYS_ADMIN effective
//	container.name               CONTAINER/NAME (host is no container id)
//	container.image, .repository, .tag   CONTAINER/IMAGE, IMAGE_REPOSITORY, IMAGE_TAG
//	k8s.ns.name, k8s.pod.name    K8S/NAMESPACE, K8S/POD_NAME
//	k8s.pod.uid, k8s.pod.id      K8S/POD_UID
//	k8s.pod.label[KEY]           K8S/POD_LABEL/KEY
//	container.image.id, digest, type, k8s.pod.labels, ip, sandbox_id   not carried: read as empty
//	fd.name, fs.path.name        TARGET/FILE_PATH on file events (none on execs)
//	fd.filename, fd.directory    the file name, the directory (a match on TARGET/FILE_PATH)
//	fd.nameraw                   event/RAW_PATH on FILE_OPEN, kept by the sensor only for a path
//	                             holding "..": only comparisons true of such paths alone
//	                             (contains '../', glob '*../*'), exact
//	fd.typechar, fd.type         f and d on file events (not told apart); 4 and 6 by the
//	                             address's family on network events
//	fd.sockfamily, fd.l4proto    ip on network events; PROTOCOL
//	fd.sip, sport, snet          DESTINATION (the server: a connect's peer, an accept's listener)
//	fd.cip, cport, cnet          SOURCE
//	fd.lip, lport, rip, rport …  SOURCE or DESTINATION by the event's direction
//	fd.ip, fd.port, fd.net       either end (!= : neither)
//	fd.num                       only what any descriptor satisfies (>= 0 true, = -1 false)
//	evt.dir                      < is true, > false
//	evt.num                      only = 0 (false) and the like
//	evt.is_open_read/write/create   FILE_FLAGS read, write, create (false on other types)
//	evt.res, evt.rawres, evt.failed   ERROR_CODE on the types that report failures; success
//	                             on the others
//	evt.arg.*, evt.rawarg.*      per type (fields_evt.go): path, name, filename → TARGET/FILE_PATH;
//	                             oldpath/newpath of renames and hard links, target/linkpath of
//	                             symbolic links; flags (O_*, MS_*, MNT_*, MFD_*, CLONE_NEW*:
//	                             contains a flag); mode (contains S_ISUID, S_ISGID, S_ISVTX,
//	                             S_IRUSR; a number); request, pid (ptrace); uid, gid; cmd (bpf);
//	                             domain, type (socket); newfd (dup)
//	evt.hostname, evt.source     routing/hostname; syscall
//
// Not supported, each the reason a rule is skipped: fd.nameraw compared with what
// needs no "..", fs.path.*raw (Vigil's paths are made absolute and cleaned), names of addresses (fd.sip.name, …), sessions and
// process groups, container mounts, I/O buffers, field transformers, comparisons
// between fields, bcontains and bstartswith, mode bits below S_IRUSR.
//
// # Reports
//
// The rule name becomes a snake_case rule and report name; priority becomes
// severity (EMERGENCY, ALERT, CRITICAL → critical; ERROR → high; WARNING → medium;
// NOTICE → low; INFORMATIONAL, INFO, DEBUG → info); desc becomes the description;
// tags are kept, ATT&CK technique tags (T1059) also under mitre, maturity_stable and
// maturity_incubating under maturity, and the first mitre_<tactic> tag names the
// category. The output is kept as written under output and rewritten under
// output_template (OutputTemplate) for the detection to render: each %field
// becomes the value of its rule path, <NA> where the event type has none.
package falco
