package collector

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strconv"

	"github.com/vigil-sec/vigil/internal/event"
)

// Layout of the records written by sensor/bpf/sensor.bpf.c (little endian). The
// layout test checks these against the bpf2go-generated types.
const (
	hdrSize      = 48
	pathMax      = 511 // longest executable path (PATH_MAX_LEN - 1)
	argsMax      = 1024
	execFlagsOff = hdrSize
	// exec records: flags, pad, the process context (record_process.go), then
	// the used bytes of the path, argv, the working directory and the environment
	execCtxOff  = hdrSize + 8
	execDataOff = execCtxOff + execCtxSize
	execDataMax = 512 + argsMax + cwdMax + 1 + envMax // PATH_MAX_LEN + ARGS_MAX_LEN + CWD_MAX_LEN + ENV_MAX_LEN
	exitSize    = hdrSize

	// file records: flags, fmode, pad, key_len, then the used bytes of the path(s)
	fileFlagsOff = hdrSize
	fileModeOff  = hdrSize + 4
	filePathOff  = hdrSize + 16
	filePathMax  = 1023 // longest path (FPATH_MAX - 1)

	// network records
	netFamilyOff = hdrSize
	netProtoOff  = hdrSize + 2
	netSportOff  = hdrSize + 4
	netDportOff  = hdrSize + 6
	netErrOff    = hdrSize + 8
	netSaddrOff  = hdrSize + 16
	netDaddrOff  = hdrSize + 32
	netSize      = hdrSize + 48
	dnsQueryOff  = netSize
	dnsMax       = 512
	dnsSize      = dnsQueryOff + dnsMax

	moduleNameOff = hdrSize
	moduleNameMax = 55 // MODULE_NAME_LEN - 1
	moduleSize    = hdrSize + 56

	privOpOff      = hdrSize
	privUIDOff     = hdrSize + 4
	privEUIDOff    = hdrSize + 8
	privGIDOff     = hdrSize + 12
	privEGIDOff    = hdrSize + 16
	privOldCapsOff = hdrSize + 24
	privNewCapsOff = hdrSize + 32
	privSize       = hdrSize + 40

	ptraceTargetOff  = hdrSize
	ptraceErrOff     = hdrSize + 4
	ptraceRequestOff = hdrSize + 8
	ptraceSize       = hdrSize + 16

	execOwnCgroups = 1 // exec flag: cgroups differ from the parent's

	kindExec       = 1
	kindExit       = 2
	kindFileOpen   = 3
	kindFileDelete = 4
	kindFileRename = 5
	kindFileChmod  = 6
	kindConnect    = 7
	kindAccept     = 8
	kindDNS        = 9
	kindModule     = 10
	kindPriv       = 11
	kindPtrace     = 12

	afInet  = 2
	afInet6 = 10
)

// Kernel constants used to describe a file open.
const (
	fmodeRead    = 0x1
	fmodeWrite   = 0x2
	fmodeCreated = 0x100000
	oTrunc       = 0o1000
)

// Decoding errors. Wrapped with details by decodeRecord.
var (
	errShortRecord = errors.New("record too short")
	errBadKind     = errors.New("unknown record kind")
	errBadLength   = errors.New("string length out of bounds")
	errBadField    = errors.New("field out of range")
	errNotDNS      = errors.New("not a DNS query")
)

// record is one decoded ring buffer sample. The byte slices alias the sample's
// bytes and are valid only until the next read from the ring buffer.
type record struct {
	kind      uint32
	pid       uint32
	ppid      uint32
	uid       uint32
	gid       uint32
	euid      uint32
	exitCode  int32 // raw wait-status encoding from task->exit_code
	bootNs    uint64
	cgroupID  uint64
	execFlags uint32 // exec: execOwnCgroups
	ctx       execContext
	cwd, env  []byte // exec: working directory; NUL-separated environment
	path      []byte // exec: executable; file: the (old) path; module: name
	args      []byte // exec: NUL-separated argv; rename: the new path; open: the path as passed; dns: the query
	in        interned
	envKey    []byte // exec: the environment variables reported, NUL-separated

	// file
	flags uint32 // open: f_flags; chmod: the new mode; rename: RENAME_* flags
	fmode uint32

	// network
	family   uint16
	protocol uint16
	sport    uint16
	dport    uint16
	err      int32
	saddr    [16]byte
	daddr    [16]byte
	dnsName  []byte // the query's name, dotted, in dnsBuf
	dnsType  uint16
	dnsBuf   [256]byte
	dnsValid bool

	// privilege change
	op      uint32
	newUID  uint32
	newEUID uint32
	newGID  uint32
	newEGID uint32
	oldCaps uint64
	newCaps uint64
	target  uint32
	request int64

	backlog uint32 // listen
	// namespaces, mounts, BPF loads, memfd, userfaultfd (record_<concern>.go)
	sysOp    uint32 // ns_op, mount_op, dup_op, syslog action
	sysFlags uint32 // CLONE_NEW*, MS_*, MFD_*, userfaultfd flags
	nsIno    uint64
	fsType   []byte // mount: file system type; BPF load: program name
	progType uint32
	progID   uint32
	unpriv   bool
	// sockets (record_sockets.go): a socket's type and protocol, the
	// descriptor a socket was duplicated onto
	sockType  uint16
	sockProto uint32
	fd        uint32
}

// decodeRecord parses raw into r without allocating on success. Any input that is
// not a well-formed record gives an error.
func decodeRecord(raw []byte, r *record) error {
	if len(raw) < hdrSize {
		return fmt.Errorf("%w: %d bytes, header needs %d", errShortRecord, len(raw), hdrSize)
	}
	le := binary.LittleEndian
	r.kind = le.Uint32(raw[0:])
	r.pid = le.Uint32(raw[4:])
	r.ppid = le.Uint32(raw[8:])
	r.uid = le.Uint32(raw[12:])
	r.gid = le.Uint32(raw[16:])
	r.exitCode = int32(le.Uint32(raw[20:]))
	r.bootNs = le.Uint64(raw[24:])
	r.cgroupID = le.Uint64(raw[32:])
	pathLen := int(le.Uint16(raw[40:]))
	argsLen := int(le.Uint16(raw[42:]))
	r.euid = le.Uint32(raw[44:])
	r.path, r.args = nil, nil

	need := func(n int, what string) error {
		if len(raw) < n {
			return fmt.Errorf("%w: %s record has %d bytes, needs %d", errShortRecord, what, len(raw), n)
		}
		return nil
	}
	switch r.kind {
	case kindExit:
		return nil
	case kindExec:
		if pathLen > pathMax || argsLen > argsMax {
			return fmt.Errorf("%w: path %d (max %d), args %d (max %d)", errBadLength, pathLen, pathMax, argsLen, argsMax)
		}
		if err := need(execDataOff, "exec"); err != nil {
			return err
		}
		r.ctx.decode(raw[execCtxOff:execDataOff])
		if r.ctx.cwdLen > cwdMax || r.ctx.envLen > envMax {
			return fmt.Errorf("%w: cwd %d (max %d), environment %d (max %d)", errBadLength, r.ctx.cwdLen, cwdMax, r.ctx.envLen, envMax)
		}
		end := execDataOff + pathLen + argsLen
		if err := need(end+r.ctx.cwdLen+r.ctx.envLen, "exec"); err != nil {
			return err
		}
		r.execFlags = le.Uint32(raw[execFlagsOff:])
		mid := execDataOff + pathLen
		r.path = raw[execDataOff:mid:mid]
		r.args = raw[mid:end:end]
		cwdEnd := end + r.ctx.cwdLen
		r.cwd = raw[end:cwdEnd:cwdEnd]
		envEnd := cwdEnd + r.ctx.envLen
		r.env = raw[cwdEnd:envEnd:envEnd]
		return nil
	case kindFileOpen, kindFileDelete, kindFileRename, kindFileChmod:
		// A rename has its new path second, an open the path as the process
		// passed it or nothing, the others nothing.
		if pathLen == 0 || pathLen > filePathMax || argsLen > filePathMax ||
			(r.kind != kindFileOpen && (argsLen == 0) == (r.kind == kindFileRename)) {
			return fmt.Errorf("%w: file record kind %d with path lengths %d and %d", errBadLength, r.kind, pathLen, argsLen)
		}
		if err := need(filePathOff+pathLen+argsLen, "file"); err != nil {
			return err
		}
		r.flags = le.Uint32(raw[fileFlagsOff:])
		r.fmode = le.Uint32(raw[fileModeOff:])
		end := filePathOff + pathLen
		r.path = raw[filePathOff:end:end]
		r.args = raw[end : end+argsLen : end+argsLen]
		return nil
	case kindConnect, kindAccept, kindDNS:
		if err := need(netSize, "network"); err != nil {
			return err
		}
		r.decodeNet(raw)
		if r.family != afInet && r.family != afInet6 {
			return fmt.Errorf("%w: address family %d", errBadField, r.family)
		}
		if r.protocol != 6 && r.protocol != 17 {
			return fmt.Errorf("%w: protocol %d", errBadField, r.protocol)
		}
		if r.kind != kindDNS {
			return nil
		}
		if err := need(dnsQueryOff+argsLen, "dns"); err != nil {
			return err
		}
		if argsLen > dnsMax {
			return fmt.Errorf("%w: dns query %d bytes (max %d)", errBadLength, argsLen, dnsMax)
		}
		r.args = raw[dnsQueryOff : dnsQueryOff+argsLen : dnsQueryOff+argsLen]
		name, qtype, err := parseDNSQuery(r.args, r.dnsBuf[:0])
		if err != nil {
			return err
		}
		r.dnsName, r.dnsType = name, qtype
		return nil
	case kindModule:
		if err := need(moduleSize, "module"); err != nil {
			return err
		}
		if pathLen > moduleNameMax {
			return fmt.Errorf("%w: module name %d (max %d)", errBadLength, pathLen, moduleNameMax)
		}
		r.path = raw[moduleNameOff : moduleNameOff+pathLen : moduleNameOff+pathLen]
		return nil
	case kindPriv:
		if err := need(privSize, "privilege"); err != nil {
			return err
		}
		r.op = le.Uint32(raw[privOpOff:])
		if r.op < 1 || int(r.op) >= len(privOps) {
			return fmt.Errorf("%w: privilege operation %d", errBadField, r.op)
		}
		r.newUID = le.Uint32(raw[privUIDOff:])
		r.newEUID = le.Uint32(raw[privEUIDOff:])
		r.newGID = le.Uint32(raw[privGIDOff:])
		r.newEGID = le.Uint32(raw[privEGIDOff:])
		r.oldCaps = le.Uint64(raw[privOldCapsOff:])
		r.newCaps = le.Uint64(raw[privNewCapsOff:])
		return nil
	case kindPtrace:
		if err := need(ptraceSize, "ptrace"); err != nil {
			return err
		}
		r.target = le.Uint32(raw[ptraceTargetOff:])
		r.err = int32(le.Uint32(raw[ptraceErrOff:]))
		r.request = int64(le.Uint64(raw[ptraceRequestOff:]))
		return nil
	case kindListen:
		return r.decodeListen(raw)
	case kindNamespace:
		return decodeNamespace(raw, r)
	case kindMount:
		return decodeMount(raw, r, pathLen, argsLen)
	case kindBPFLoad:
		return decodeBPFLoad(raw, r)
	case kindMemfd:
		return decodeMemfd(raw, r, pathLen)
	case kindUserfaultfd:
		return decodeUserfaultfd(raw, r)
	case kindKernelLog:
		return decodeKernelLog(raw, r)
	case kindFileLink, kindDirCreate, kindDirDelete, kindFileMknod, kindFileChown, kindFileTruncate:
		return r.decodeFileOp(raw, pathLen, argsLen)
	case kindSocketCreate:
		return r.decodeSocket(raw)
	case kindFDDup:
		return r.decodeFDDup(raw)
	default:
		return fmt.Errorf("%w %d", errBadKind, r.kind)
	}
}

// decodeNet reads the body of a network record (struct net_event, which
// raw holds whole) into r.
func (r *record) decodeNet(raw []byte) {
	le := binary.LittleEndian
	r.family = le.Uint16(raw[netFamilyOff:])
	r.protocol = le.Uint16(raw[netProtoOff:])
	r.sport = le.Uint16(raw[netSportOff:])
	r.dport = le.Uint16(raw[netDportOff:])
	r.err = int32(le.Uint32(raw[netErrOff:]))
	copy(r.saddr[:], raw[netSaddrOff:netSaddrOff+16])
	copy(r.daddr[:], raw[netDaddrOff:netDaddrOff+16])
}

// privOps names the privilege-changing operations by enum priv_op.
var privOps = [...]string{1: "setuid", "setreuid", "setresuid", "setfsuid", "setgid", "setregid", "setresgid", "setfsgid", "capset"}

// openFlags names every combination of read (1), write (2), create (4) and
// truncate (8), so that filling FILE_FLAGS does not allocate.
var openFlags = func() [16]string {
	var t [16]string
	for i := range t {
		s := ""
		for bit, name := range []string{"read", "write", "create", "truncate"} {
			if i&(1<<bit) != 0 {
				if s != "" {
					s += ","
				}
				s += name
			}
		}
		t[i] = s
	}
	return t
}()

// fileFlags describes an open: read and write from the file's mode, create if
// this open created the file, truncate if O_TRUNC was given on a writable open.
func fileFlags(fmode, flags uint32) string {
	i := 0
	if fmode&fmodeRead != 0 {
		i |= 1
	}
	if fmode&fmodeWrite != 0 {
		i |= 2
	}
	if fmode&fmodeCreated != 0 {
		i |= 4
	}
	if flags&oTrunc != 0 && fmode&fmodeWrite != 0 {
		i |= 8
	}
	return openFlags[i]
}

// fill writes r into ev (which the caller has reset). bootToWall converts the
// kernel's CLOCK_BOOTTIME nanoseconds to Unix nanoseconds; scratch is reused for
// building the command line and returned, possibly grown.
func (r *record) fill(ev *event.Event, bootToWall int64, scratch []byte) []byte {
	ev.TimeNanos = int64(r.bootNs) + bootToWall
	ev.PID = r.pid
	ev.PPID = r.ppid
	ev.UID = r.uid
	ev.GID = r.gid
	ev.EUID = r.euid
	ev.CgroupID = r.cgroupID
	switch r.kind {
	case kindExec:
		ev.Type = event.NewProcess
		ev.FilePath = r.in.str(r.path)
		scratch = commandLine(scratch[:0], r.args)
		ev.CommandLine = r.in.str(scratch)
	case kindExit:
		ev.Type = event.TerminateProcess
		ev.ExitCode = exitStatus(r.exitCode)
	case kindFileOpen:
		ev.Type = event.FileOpen
		ev.TargetPath = string(r.path)
		ev.FileFlags = fileFlags(r.fmode, r.flags)
		ev.RawPath = string(r.args)
	case kindFileDelete:
		ev.Type = event.FileDelete
		ev.TargetPath = changedPath(r.path)
	case kindFileRename:
		ev.Type = event.FileRename
		ev.OldTargetPath = changedPath(r.path)
		ev.TargetPath = changedPath(r.args)
	case kindFileChmod:
		ev.Type = event.FileChmod
		ev.TargetPath = changedPath(r.path)
		ev.FileMode = r.flags & 0o7777
	case kindConnect, kindAccept, kindDNS:
		ev.Type = event.NetworkConnect
		ev.Protocol = "tcp"
		if r.protocol == 17 {
			ev.Protocol = "udp"
		}
		local, remote := r.addr(r.saddr), r.addr(r.daddr)
		ev.SourceIP, ev.SourcePort = local, r.sport
		ev.DestIP, ev.DestPort = remote, r.dport
		ev.ErrorCode = r.err
		switch r.kind {
		case kindAccept:
			// The peer started it: it is the source, this host the destination.
			ev.Type = event.NetworkAccept
			ev.SourceIP, ev.SourcePort, ev.DestIP, ev.DestPort = remote, r.dport, local, r.sport
		case kindDNS:
			ev.Type = event.DNSRequest
			ev.ErrorCode = 0
			ev.DomainName = string(r.dnsName)
			ev.DNSType = dnsTypeName(r.dnsType)
		}
	case kindModule:
		ev.Type = event.ModuleLoad
		ev.ModuleName = string(r.path)
	case kindPriv:
		ev.Type = event.PrivilegeChange
		ev.Operation = privOps[r.op]
		ev.NewUID = r.newEUID
		ev.NewGID = r.newEGID
	case kindPtrace:
		ev.Type = event.Ptrace
		ev.TargetPID = r.target
		ev.PtraceRequest = r.request
		ev.PtraceRequestName = ptraceRequestName(r.request)
		ev.ErrorCode = r.err
	case kindListen:
		r.fillListen(ev)
	case kindNamespace:
		r.fillNamespace(ev)
	case kindMount:
		r.fillMount(ev)
	case kindBPFLoad:
		r.fillBPFLoad(ev)
	case kindMemfd:
		r.fillMemfd(ev)
	case kindUserfaultfd:
		r.fillUserfaultfd(ev)
	case kindKernelLog:
		r.fillKernelLog(ev)
	case kindFileLink, kindDirCreate, kindDirDelete, kindFileMknod, kindFileChown, kindFileTruncate:
		r.fillFileOp(ev)
	case kindSocketCreate:
		r.fillSocket(ev)
	case kindFDDup:
		r.fillFDDup(ev)
	}
	return scratch
}

// addr formats a 16-byte address of the record's family. IPv4-mapped IPv6
// addresses (an IPv6 socket talking IPv4) are shown as IPv4. The unspecified
// address (a socket not yet bound) gives "".
func (r *record) addr(a [16]byte) string {
	var ip netip.Addr
	if r.family == afInet {
		ip = netip.AddrFrom4([4]byte(a[:4]))
	} else {
		ip = netip.AddrFrom16(a).Unmap()
	}
	if ip.IsUnspecified() {
		return ""
	}
	return ip.String()
}

// commandLine appends argv (NUL-separated, as in /proc/<pid>/cmdline) to dst with
// the separators turned into spaces and trailing NULs dropped.
func commandLine(dst, argv []byte) []byte {
	for len(argv) > 0 && argv[len(argv)-1] == 0 {
		argv = argv[:len(argv)-1]
	}
	start := len(dst)
	dst = append(dst, argv...)
	for i := start; i < len(dst); i++ {
		if dst[i] == 0 {
			dst[i] = ' '
		}
	}
	return dst
}

// exitStatus converts the kernel's wait-status encoding to the value shells show:
// the exit status (0–255) of a normal exit, or -N for death by signal N.
func exitStatus(raw int32) int32 {
	if sig := raw & 0x7f; sig != 0 {
		return -sig
	}
	return (raw >> 8) & 0xff
}

// dnsTypes names the common query types; others are shown as TYPE<n> (RFC 3597).
var dnsTypes = map[uint16]string{
	1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 12: "PTR", 13: "HINFO", 15: "MX", 16: "TXT",
	28: "AAAA", 33: "SRV", 35: "NAPTR", 39: "DNAME", 43: "DS", 46: "RRSIG", 47: "NSEC",
	48: "DNSKEY", 52: "TLSA", 64: "SVCB", 65: "HTTPS", 99: "SPF", 252: "AXFR", 255: "ANY", 257: "CAA",
}

func dnsTypeName(t uint16) string {
	if s, ok := dnsTypes[t]; ok {
		return s
	}
	return "TYPE" + strconv.Itoa(int(t))
}

// parseDNSQuery reads the first question of a DNS query message (RFC 1035 4.1):
// its name, dotted and without the trailing dot, appended to dst, and its type.
// Responses, messages without a question and malformed names are errors.
func parseDNSQuery(msg, dst []byte) ([]byte, uint16, error) {
	if len(msg) < 12 {
		return nil, 0, fmt.Errorf("%w: %d bytes, header needs 12", errNotDNS, len(msg))
	}
	if msg[2]&0x80 != 0 {
		return nil, 0, fmt.Errorf("%w: a response (QR set)", errNotDNS)
	}
	if op := (msg[2] >> 3) & 0xf; op != 0 {
		return nil, 0, fmt.Errorf("%w: opcode %d", errNotDNS, op)
	}
	if binary.BigEndian.Uint16(msg[4:]) == 0 {
		return nil, 0, fmt.Errorf("%w: no question", errNotDNS)
	}
	i := 12
	for {
		if i >= len(msg) {
			return nil, 0, fmt.Errorf("%w: name runs past the message", errNotDNS)
		}
		n := int(msg[i])
		i++
		if n == 0 {
			break
		}
		if n > 63 { // compression pointers have no place in a question
			return nil, 0, fmt.Errorf("%w: label length byte %#x", errNotDNS, n)
		}
		if i+n > len(msg) {
			return nil, 0, fmt.Errorf("%w: label runs past the message", errNotDNS)
		}
		if len(dst)+n+1 > 254 {
			return nil, 0, fmt.Errorf("%w: name longer than 253 bytes", errNotDNS)
		}
		if len(dst) > 0 {
			dst = append(dst, '.')
		}
		dst = append(dst, msg[i:i+n]...)
		i += n
	}
	if i+4 > len(msg) {
		return nil, 0, fmt.Errorf("%w: question has no type and class", errNotDNS)
	}
	return dst, binary.BigEndian.Uint16(msg[i:]), nil
}

// cutMark stands for the part of a path the kernel could not carry: it begins
// a path cut to its end (too long or too deep to walk whole), and ends one cut
// to its beginning (a call's argument longer than a record). The prefix filter
// keeps both: what it would match them by is unknown.
const cutMark = "..."

// changedPath is the path of a file change as the kernel built it from the
// call's arguments: one that fills the record (filePathMax bytes) was cut, and
// ends in cutMark ("/etc/./././...").
func changedPath(b []byte) string {
	if len(b) == filePathMax {
		return string(b) + cutMark
	}
	return string(b)
}
