// Package sigma converts Sigma rules for Linux into Vigil D&R rules, and refuses,
// with the reason, every rule it cannot convert faithfully. docs/sigma.md is the
// full mapping and the figures on SigmaHQ's rules.
//
// A rule is translated once per context: a Vigil event type, and what each Sigma
// field means on it (translate.go). The log source gives the contexts
// (logsource.go):
//
//   - category process_creation, file_event, network_connection: Sysmon for
//     Linux's events 1, 11 and 3 (sysmon.go), as NEW_PROCESS; FILE_OPEN that
//     created or truncated the file; NETWORK_CONNECT and NETWORK_ACCEPT, told
//     apart by Initiated.
//   - service auditd: one record of the audit log, by its type (auditd.go):
//     EXECVE (a0…aN: event/ARGS/N) as NEW_PROCESS; PATH (name: the path of each
//     file event, and the program of a NEW_PROCESS; nametype from what the call
//     did); SYSCALL (SYSCALL: the event type the sensor reports the syscall as,
//     with event/OPERATION where one type comes from several syscalls; exe, comm,
//     uid, euid, gid, auid, ses, pid, ppid, success; key through the audit rules
//     of the logsource's definition that watch executions). A search that names
//     no type applies to these three records, where it has the fields.
//   - product kubernetes, service audit: one event of the API server's audit
//     log as K8S_AUDIT (kubernetes.go: verb, user.username, objectRef.*,
//     requestURI, responseStatus.code, …; '*' on a list field is a non-empty list).
//   - product linux alone, and the other services: log text, refused.
//
// Contexts also stand for what Vigil has no events for: other record types and
// syscalls the sensor does not report (or reports only some calls of). Their
// fields compare as unknown, and a rule whose condition can hold on them is
// refused naming the record type or syscall. A field Vigil lacks is an error only
// where it matters: in a search that cannot hold on the record anyway it is not
// looked at.
//
// Values: Sigma compares case-insensitively (case sensitive: false) unless the
// cased modifier is given; * and ? are wildcards (\*, \? and \\ escape them):
// a leading or trailing * becomes ends with / starts with / contains, other
// wildcards an RE2 match. A list of values is their or (an in list for exact
// values, one cidr node for prefixes), with the all modifier their and; null
// is an empty field. Modifiers: contains, startswith, endswith, all, re (with
// i, m, s), cidr, cased, exists, gt, gte, lt, lte. windash, base64,
// base64offset, utf16*, wide, expand and fieldref are refused with the reason.
// Keywords are searched in an EXECVE record's arguments (event/COMMAND_LINE)
// and refused elsewhere.
//
// Conditions (cond.go): and, or, not, parentheses, identifiers, "1 of", "any of"
// and "all of" a pattern (selection*) or them (every identifier not starting
// with _), and a list of conditions (their or). Aggregations (| count() …),
// near and "N of" with N > 1 are refused.
//
// Output: one D&R rule per group of event types whose translations are equal
// (name_<first type> when there are several groups). The title becomes a
// snake_case rule and report name; level becomes severity (informational →
// info, low, medium, high, critical; medium when absent); status becomes
// maturity (stable → stable; test, experimental → incubating; deprecated and
// unsupported rules are skipped); attack.tNNNN[.NNN] tags become mitre ids and
// the first attack.<tactic> tag the category (else the log source's category
// or service); description, tags, references, falsepositives, author and id are
// kept.
package sigma
