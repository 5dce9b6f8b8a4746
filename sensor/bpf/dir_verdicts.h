// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
//
// The prefix filter's verdicts by directory, so that most file opens are
// decided before their path is built. Included by sensor.bpf.c after
// file_watch.h, before the file opens.
//
// The file_prefixes verdict of a file is the same for every file of its
// directory D unless an entry strictly extends "D/" (or a file of D has a
// path too long to be kept whole). User space marks those directories: for
// each '/'-terminated proper prefix of an entry it sets PREFIX_SPLIT on the
// entry there, or adds one (of the verdict of its longest real prefix). So a
// lookup of "D/" in the trie that lands on an entry of exactly that length
// with PREFIX_SPLIT means "depends on the file"; any other answer is the
// verdict of every file of D.
//
// A file open whose directory's verdict is cached and current, and says that
// the open is not reported, returns before its path is walked (counted in
// COUNTER_FILE_CACHED alone: user space adds it to the filtered ones). Otherwise its path is walked
// and matched as before, and the verdict of its directory, if uniform, cached.
//
// An entry is keyed by the directory's dentry and the mount it was reached
// through (the walked path is a function of the two), and holds what tells a
// dentry or mount freed and allocated again at the same address for another
// directory: the mount's id, the directory's inode number, super block, inode
// generation and name hash (which the kernel salts with the parent dentry's
// address). An entry is current while dir_gen has not moved since it was
// made: dir_gen is bumped after every call that can change the path of a
// directory already in the dentry cache (rename, mount, umount, move_mount,
// pivot_root, and io_uring's renameat). Such a call bumps it at its exit,
// after the change: an open that runs between the two may use the verdict of
// the directory's old path.

// Set by user space before loading when every syscall that dir_paths_moved
// watches is hooked; else nothing is cached.
const volatile __u32 dir_cache = 0;

// The generation of the cached verdicts (one slot).
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} dir_gen SEC(".maps");

struct dir_key {
	__u64 dentry; // the directory's struct dentry *
	__u64 mnt;    // the struct vfsmount * it was reached through
};

struct dir_verdict {
	__u64 gen;    // dir_gen when the verdict was found
	__u64 mnt_id; // the mount's mnt_id_unique (its mnt_id before Linux 6.8)
	__u64 ino;    // the directory's inode number,
	__u64 sb;     // its super block,
	__u32 igen;   // its inode's generation,
	__u32 hash;   // and its name's hash
	__u8 verdict; // the file_prefixes value that decides every file in it
	__u8 _pad[7];
};

const struct dir_verdict *unused_dir_verdict __attribute__((unused));

// Verdicts by directory; the least recently used go first.
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, struct dir_key);
	__type(value, struct dir_verdict);
} dir_verdicts SEC(".maps");

// The verdict this CPU used last, and its directory: opens come in runs in one
// directory (a build, a scan, a storm), and this slot answers them before the
// hash map is asked.
struct dir_last {
	struct dir_key k;
	struct dir_verdict v;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct dir_last);
} dir_last SEC(".maps");

// A directory's path, with its '/', of more bytes than this may have files
// whose paths are cut (see walk_path): their verdicts are not uniform.
#define DIR_PATH_MAX (FPATH_MAX - 1 - NAME_MAX)

static __always_inline __u64 *dir_gen_slot(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&dir_gen, &zero);
}

static __always_inline __u64 dir_gen_now(void)
{
	__u64 *g = dir_gen_slot();

	return g ? *(volatile __u64 *)g : 0;
}

// dir_paths_changed makes every cached verdict stale.
static __always_inline void dir_paths_changed(void)
{
	__u64 *g = dir_gen_slot();

	if (g)
		__sync_fetch_and_add(g, 1);
}

// dir_ident fills id with what identifies directory d reached through mnt.
static __always_inline void dir_ident(struct dir_verdict *id, struct dentry *d, struct vfsmount *mnt)
{
	struct mount *m = bpf_rdonly_cast((void *)mnt - bpf_core_field_offset(struct mount, mnt),
					  bpf_core_type_id_kernel(struct mount));
	struct inode *i = d->d_inode;

	__builtin_memset(id, 0, sizeof(*id));
	if (m)
		id->mnt_id = bpf_core_field_exists(m->mnt_id_unique) ? m->mnt_id_unique : (__u64)m->mnt_id;
	if (i) {
		id->ino = i->i_ino;
		id->sb = (__u64)i->i_sb;
		id->igen = i->i_generation;
	}
	id->hash = d->d_name.hash;
}

// dir_cached fills id for directory d reached through mnt and returns the
// verdict cached for it at generation gen, or -1 if none is.
static __always_inline bool dir_same(const struct dir_verdict *v, const struct dir_verdict *id, __u64 gen)
{
	return v->gen == gen && v->mnt_id == id->mnt_id && v->ino == id->ino && v->sb == id->sb &&
	       v->igen == id->igen && v->hash == id->hash;
}

static __always_inline int dir_cached(struct dir_verdict *id, struct dentry *d, struct vfsmount *mnt, __u64 gen)
{
	struct dir_key k = {.dentry = (__u64)d, .mnt = (__u64)mnt};
	struct dir_verdict *v;
	struct dir_last *last;
	__u32 zero = 0;

	dir_ident(id, d, mnt);
	last = bpf_map_lookup_elem(&dir_last, &zero);
	if (last && last->k.dentry == k.dentry && last->k.mnt == k.mnt && dir_same(&last->v, id, gen))
		return last->v.verdict;
	v = bpf_map_lookup_elem(&dir_verdicts, &k);
	if (!v || !dir_same(v, id, gen))
		return -1;
	if (last) {
		last->k = k;
		last->v = *v;
	}
	return v->verdict;
}

// dir_prefix_verdict returns the file_prefixes value that decides every file
// of the directory whose path, '/' included, is the first dlen bytes of the
// path at w->b[off] (the key slot before it is written), or -1 if it differs
// between files: an entry extends the directory's path, or the path was cut.
static __always_inline int dir_prefix_verdict(struct walk_buf *w, __u32 off, __u32 dlen)
{
	struct prefix_val *v;
	__u32 *key_len;

	if (dlen > PREFIX_MAX)
		dlen = PREFIX_MAX; // as long as the trie's keys: every file matches as its directory
	off -= 4;
	barrier_var(off);
	if (off > WALK_BUF - sizeof(struct prefix_key))
		return -1;
	key_len = (__u32 *)&w->b[off];
	if (((char *)key_len)[4] != '/')
		return -1; // CUT_MARK
	*key_len = dlen * 8;
	v = bpf_map_lookup_elem(&file_prefixes, key_len);
	if (!v)
		return 0;
	if ((v->flags & PREFIX_SPLIT) && v->bits == dlen * 8)
		return -1;
	return v->verdict;
}

// dir_learn caches, at generation id->gen, the verdict of directory d reached
// through mnt, from the path of len bytes at w->b[off] that walk_path just
// built for a file in it, if that verdict is the same for all its files.
static __always_inline void dir_learn(struct dir_verdict *id, struct dentry *d, struct vfsmount *mnt,
				      struct walk_buf *w, __u32 off, __u32 len)
{
	struct dir_key k = {.dentry = (__u64)d, .mnt = (__u64)mnt};
	__u32 first = w->first;
	__u32 dlen;
	int v;

	if (first == 0 || first > len)
		return;
	dlen = len - first + 1; // the directory's path and its '/'
	if (dlen > DIR_PATH_MAX)
		return;
	v = dir_prefix_verdict(w, off, dlen);
	if (v < 0)
		return;
	id->verdict = v;
	bpf_map_update_elem(&dir_verdicts, &k, id, BPF_ANY);
}
