// Package sigma converts Sigma rules for Linux into Vigil D&R rules.
//
// Log sources: product linux with category process_creation (NEW_PROCESS),
// file_event (FILE_OPEN that created or truncated the file: FILE_FLAGS has create or
// truncate, the meaning of Sysmon's FileCreate) or network_connection
// (NETWORK_CONNECT, and NETWORK_ACCEPT unless the rule asks for Initiated: 'true';
// Initiated: 'false' keeps only NETWORK_ACCEPT). Other products, categories and
// services are skipped with the reason.
//
// Fields and their Vigil rule paths:
//
//	Image              event/FILE_PATH
//	CommandLine        event/COMMAND_LINE
//	ParentImage        event/PARENT/FILE_PATH        (process_creation)
//	ParentCommandLine  event/PARENT/COMMAND_LINE     (process_creation)
//	User               event/USER
//	ProcessId          event/PROCESS_ID
//	ParentProcessId    event/PARENT_PROCESS_ID       (process_creation)
//	TargetFilename     event/TARGET/FILE_PATH        (file_event)
//	DestinationIp      event/DESTINATION/IP_ADDRESS  (network_connection)
//	DestinationPort    event/DESTINATION/PORT
//	SourceIp           event/SOURCE/IP_ADDRESS
//	SourcePort         event/SOURCE/PORT
//	Protocol           event/PROTOCOL
//	Initiated          the event type (true: NETWORK_CONNECT, false: NETWORK_ACCEPT)
//
// Source and destination follow the connection's direction on both event types:
// the source initiated it. DestinationHostname, CurrentDirectory, Hashes, LogonId,
// OriginalFileName, ParentUser and any other field are reported as unsupported.
//
// Values: Sigma compares case-insensitively (case sensitive: false) unless the
// cased modifier is given; * and ? are wildcards (\*, \? and \\ escape them): a
// leading or trailing * becomes ends with / starts with / contains, other wildcards
// an RE2 match. A list of values is their or (an in list for exact values), with
// the all modifier their and; null is an empty field. Modifiers: contains,
// startswith, endswith, all, re (with i, m, s), cidr, cased, exists, gt, gte, lt,
// lte. windash, base64, base64offset, utf16*, wide, expand, fieldref and others are
// reported as unsupported, as are keyword (full-text) searches.
//
// Conditions: and, or, not, parentheses, identifiers, "1 of", "any of" and "all of"
// a pattern (selection*) or them (every identifier not starting with _), and a list
// of conditions (their or). Aggregations (| count() …), near and "N of" with N > 1
// are reported as unsupported.
//
// Report: the title becomes a snake_case rule and report name; level becomes
// severity (informational → info, low, medium, high, critical; medium when absent);
// status becomes maturity (stable → stable; test, experimental → incubating;
// deprecated and unsupported rules are skipped); attack.tNNNN[.NNN] tags become
// mitre ids and the first attack.<tactic> tag the category (else the log source
// category); description, tags, references, falsepositives, author and id are kept.
package sigma
