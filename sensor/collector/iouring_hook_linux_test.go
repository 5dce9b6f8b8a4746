package collector_test

import (
	"bytes"
	"testing"

	"github.com/cilium/ebpf/btf"

	"github.com/vigil-sec/vigil/sensor/collector"
)

// hookSpec returns a kernel BTF holding only the typedef of a tracepoint hook
// named name with the given parameters (after the hook's context).
func hookSpec(t *testing.T, name string, params ...btf.Type) *btf.Spec {
	t.Helper()
	proto := &btf.FuncProto{Return: (*btf.Void)(nil), Params: []btf.FuncParam{{Type: &btf.Pointer{Target: (*btf.Void)(nil)}}}}
	for _, p := range params {
		proto.Params = append(proto.Params, btf.FuncParam{Type: p})
	}
	b, err := btf.NewBuilder([]btf.Type{&btf.Typedef{Name: name, Type: &btf.Pointer{Target: proto}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := b.Marshal(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := btf.LoadSpecFromReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

// TestCompletionPassesCQE checks which forms of the io_uring_complete
// tracepoint the io_uring program is loaded for.
func TestCompletionPassesCQE(t *testing.T) {
	u64 := &btf.Int{Name: "long long unsigned int", Size: 8}
	s32 := &btf.Int{Name: "int", Size: 4, Encoding: btf.Signed}
	u32 := &btf.Int{Name: "unsigned int", Size: 4}
	ctx := &btf.Pointer{Target: &btf.Struct{Name: "io_ring_ctx"}}
	req := &btf.Pointer{Target: (*btf.Void)(nil)}
	cqe := &btf.Struct{Name: "io_uring_cqe", Size: 16, Members: []btf.Member{
		{Name: "user_data", Type: u64}, {Name: "res", Type: s32, Offset: 64}, {Name: "flags", Type: u32, Offset: 96}}}
	for _, tc := range []struct {
		name string
		spec *btf.Spec
		want bool
	}{
		{"ctx, req, cqe", hookSpec(t, "btf_trace_io_uring_complete", ctx, req, &btf.Pointer{Target: cqe}), true},
		{"cqe through a typedef", hookSpec(t, "btf_trace_io_uring_complete", ctx, req,
			&btf.Pointer{Target: &btf.Typedef{Name: "cqe_t", Type: cqe}}), true},
		{"the fields one by one", hookSpec(t, "btf_trace_io_uring_complete", ctx, req, u64, s32, u32, u64, u64), false},
		{"a pointer to something else", hookSpec(t, "btf_trace_io_uring_complete", ctx, req, &btf.Pointer{Target: u64}), false},
		{"no io_uring", hookSpec(t, "btf_trace_sched_process_exit", req), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := collector.CompletionPassesCQE(tc.spec); got != tc.want {
				t.Errorf("CompletionPassesCQE = %v, want %v", got, tc.want)
			}
		})
	}
}
