package agent

//go:generate clang-14 -O2 -g -Wall -Werror -target bpf -mcpu=v3 -I/usr/include/x86_64-linux-gnu -c testdata/inject.bpf.c -o testdata/inject.o
//go:generate llvm-strip-14 -g testdata/inject.o

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/vigil-sec/vigil/sensor/bpf"
	"github.com/vigil-sec/vigil/sensor/collector"
	"github.com/vigil-sec/vigil/sensor/container"
)

// injectPIDBase is where the pids of injected processes start: above the
// kernel's largest pid (PID_MAX_LIMIT, 4,194,304), so that none is a real
// process's.
const injectPIDBase = 10_000_000

// injectCalls is the storm process of the "inject N RATE" spec: once its
// standard input says go, it calls getppid N times, RATE calls a second, each
// call one exec and exit the injector program queues.
func injectCalls(n int, rate float64) error {
	if _, err := bufio.NewReader(os.Stdin).ReadByte(); err != nil {
		return fmt.Errorf("inject: wait for go: %w", err)
	}
	start := time.Now()
	for i := 0; i < n; {
		due := min(n, int(time.Since(start).Seconds()*rate)+1)
		for ; i < due; i++ {
			unix.Getppid()
		}
		if i < n {
			time.Sleep(time.Millisecond)
		}
	}
	return nil
}

// injector is testdata/inject.o loaded with the sensor's ring buffer.
type injector struct {
	coll *ebpf.Collection
	tp   link.Link
}

// sensorRing returns the running sensor's ring buffer: the newest ring buffer
// map named "events" that this process holds a descriptor of (the sensor holds
// its maps privately; the benchmark runs one sensor at a time). Sensors that
// other processes run at the same time (tests in parallel on a shared machine)
// have maps of the same name, which are not this sensor's.
func sensorRing() (*ebpf.Map, error) {
	ids, err := heldMapIDs()
	if err != nil {
		return nil, err
	}
	var newest ebpf.MapID
	for _, id := range ids {
		m, err := ebpf.NewMapFromID(id)
		if err != nil {
			continue // gone meanwhile
		}
		if info, err := m.Info(); err == nil && info.Type == ebpf.RingBuf && info.Name == bpf.SensorMapEvents {
			newest = max(newest, id)
		}
		m.Close()
	}
	if newest == 0 {
		return nil, errors.New("no sensor ring buffer loaded by this process")
	}
	return ebpf.NewMapFromID(newest)
}

// heldMapIDs returns the ids of the BPF maps this process holds descriptors
// of, from the map_id lines of /proc/self/fdinfo.
func heldMapIDs() ([]ebpf.MapID, error) {
	fds, err := os.ReadDir("/proc/self/fdinfo")
	if err != nil {
		return nil, fmt.Errorf("list descriptors: %w", err)
	}
	var ids []ebpf.MapID
	for _, fd := range fds {
		info, err := os.ReadFile(filepath.Join("/proc/self/fdinfo", fd.Name()))
		if err != nil {
			continue // closed meanwhile
		}
		for line := range strings.Lines(string(info)) {
			if v, ok := strings.CutPrefix(line, "map_id:"); ok {
				if id, err := strconv.ParseUint(strings.TrimSpace(v), 10, 32); err == nil {
					ids = append(ids, ebpf.MapID(id))
				}
			}
		}
	}
	return ids, nil
}

// newInjector loads the injector for the getppid calls of process caller: each
// queues into the sensor's ring buffer the exec record of a /usr/bin/true
// child of caller, then its exit record, as sensor.bpf.c makes them.
func newInjector(caller int) (*injector, error) {
	ring, err := sensorRing()
	if err != nil {
		return nil, err
	}
	defer ring.Close()
	spec, err := ebpf.LoadCollectionSpec(filepath.Join("testdata", "inject.o"))
	if err != nil {
		return nil, err
	}
	spec.Maps["events"].MaxEntries = ring.MaxEntries()
	cgroup, err := cgroupID()
	if err != nil {
		return nil, err
	}
	hdr := bpf.SensorEventHdr{Kind: uint32(bpf.SensorEventKindEVENT_EXEC), Ppid: uint32(caller), CgroupId: cgroup}
	path, argv := "/usr/bin/true", "true\x00"
	hdr.PathLen, hdr.ArgsLen = uint16(len(path)), uint16(len(argv))
	var execRec, exitRec bytes.Buffer
	binary.Write(&execRec, binary.LittleEndian, hdr)
	binary.Write(&execRec, binary.LittleEndian, [2]uint32{})             // flags (shares its parent's cgroups), padding
	binary.Write(&execRec, binary.LittleEndian, bpf.SensorExecContext{}) // no tty, cwd or environment
	execRec.WriteString(path + argv)
	hdr.Kind, hdr.PathLen, hdr.ArgsLen = uint32(bpf.SensorEventKindEVENT_EXIT), 0, 0
	binary.Write(&exitRec, binary.LittleEndian, hdr)
	for name, v := range map[string]any{
		"caller": uint32(caller), "exec_size": uint32(execRec.Len()), "exit_size": uint32(exitRec.Len()),
		"first_pid": uint32(injectPIDBase), "wakeup_bytes": uint64(ring.MaxEntries() / collector.WakeupFraction),
	} {
		if err := spec.Variables[name].Set(v); err != nil {
			return nil, fmt.Errorf("inject: set %s: %w", name, err)
		}
	}
	coll, err := ebpf.NewCollectionWithOptions(spec, ebpf.CollectionOptions{MapReplacements: map[string]*ebpf.Map{"events": ring}})
	if err != nil {
		return nil, fmt.Errorf("inject: load: %w", err)
	}
	cpus, err := ebpf.PossibleCPU()
	if err != nil {
		coll.Close()
		return nil, err
	}
	for i, rec := range [][]byte{execRec.Bytes(), exitRec.Bytes()} {
		perCPU := make([][256]byte, cpus)
		for c := range perCPU {
			copy(perCPU[c][:], rec)
		}
		if err := coll.Maps["templates"].Put(uint32(i), perCPU); err != nil {
			coll.Close()
			return nil, fmt.Errorf("inject: template %d: %w", i, err)
		}
	}
	tp, err := link.Tracepoint("syscalls", "sys_enter_getppid", coll.Programs["inject"], nil)
	if err != nil {
		coll.Close()
		return nil, fmt.Errorf("inject: attach: %w", err)
	}
	return &injector{coll: coll, tp: tp}, nil
}

// counts returns how many records the injector queued, and how many the full
// ring buffer refused.
func (in *injector) counts() (queued, lost uint64, err error) {
	if err := in.coll.Variables["injected"].Get(&queued); err != nil {
		return 0, 0, err
	}
	err = in.coll.Variables["lost"].Get(&lost)
	return queued, lost, err
}

func (in *injector) Close() {
	in.tp.Close()
	in.coll.Close()
}

// inject stands for execs processes exec'ing at rate a second: it runs the
// storm process "inject", loads the injector for it and lets it go. It returns
// the number of records queued and the number the full ring buffer refused
// (which the sensor's kernel programs would have counted as drops).
func inject(b *testing.B, execs int, rate float64) (queued, lost uint64) {
	self, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(self, "-test.run=^$", "-test.bench=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=inject %d %g", stormEnv, execs, rate))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	in, err := newInjector(cmd.Process.Pid)
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		b.Fatal(err)
	}
	defer in.Close()
	io.WriteString(stdin, "go")
	if err := cmd.Wait(); err != nil {
		b.Fatalf("inject: %v: %s", err, out.Bytes())
	}
	queued, lost, err = in.counts()
	if err != nil {
		b.Fatal(err)
	}
	return queued, lost
}

// cgroupID returns this process's cgroup v2 id, the inode of its cgroup's
// directory, which is what the kernel records for its children.
func cgroupID() (uint64, error) {
	mountinfo, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return 0, err
	}
	root := container.Cgroup2Mount(mountinfo)
	if root == "" {
		return 0, errors.New("no cgroup v2 hierarchy mounted")
	}
	data, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(data)) {
		if rel, ok := strings.CutPrefix(strings.TrimSpace(line), "0::"); ok {
			var st syscall.Stat_t
			if err := syscall.Stat(filepath.Join(root, rel), &st); err != nil {
				return 0, err
			}
			return st.Ino, nil
		}
	}
	return 0, errors.New("no cgroup v2 entry in /proc/self/cgroup")
}
