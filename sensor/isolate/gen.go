package isolate

// Regenerate the Go bindings and the compiled object with
// `go generate ./sensor/isolate/...`. It needs clang-14, llvm-strip and the libbpf
// and kernel UAPI headers (libbpf-dev, linux-libc-dev); the output is committed so
// that building the sensor needs none of them.
//
//go:generate go tool bpf2go -cc clang-14 -cflags "-O2 -g -Wall -Werror -I/usr/include/x86_64-linux-gnu" -target bpfel -type v4_key -type v6_key isolate isolate.bpf.c
