// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
//
// Prefixes watched for changes only. Included by sensor.bpf.c before the file
// opens: a file_prefixes entry of value PREFIX_CHANGES reports the changes made
// below it (creates, deletes, renames, links, mode and owner changes, truncation)
// and the opens that may change a file (for writing, or creating it), not the
// opens that only read. Binary and library directories are watched so: every
// exec reads its loader and libraries there, and a write is what matters.

#define PREFIX_CHANGES 2       // file_prefixes value: changes and writing opens only
#define FMODE_WRITE_BIT 0x2    // FMODE_WRITE
#define FMODE_CREATED_BIT 0x100000 // FMODE_CREATED

// verdict_reports applies a file_prefixes value to an open of f_mode fmode: a
// prefix of value PREFIX_CHANGES passes only an open for writing or one that
// created the file.
static __always_inline bool verdict_reports(__u8 v, __u32 fmode)
{
	return v && (v != PREFIX_CHANGES || (fmode & (FMODE_WRITE_BIT | FMODE_CREATED_BIT)));
}

// wanted_open is wanted for an open of f_mode fmode (see verdict_reports).
static __always_inline bool wanted_open(struct walk_buf *w, __u32 off, __u32 len, __u32 fmode)
{
	struct prefix_val *v;
	__u32 *key_len;

	if (len > PREFIX_MAX)
		len = PREFIX_MAX;
	off -= 4;
	barrier_var(off);
	if (off > WALK_BUF - sizeof(struct prefix_key))
		return false;
	key_len = (__u32 *)&w->b[off];
	if (((char *)key_len)[4] == CUT_MARK[0])
		return true;
	*key_len = len * 8;
	v = bpf_map_lookup_elem(&file_prefixes, key_len);
	return v && verdict_reports(v->verdict, fmode);
}
