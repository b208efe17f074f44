// SPDX-License-Identifier: MIT
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "heaptrace.skel.h"
#include "log.h"
#include "modules.h"
#include "probes.h"
#include "util.h"

/*
 * Kernel ABI for uprobe_multi links (Linux 6.6+), which libbpf 1.1 does
 * not wrap: BPF_LINK_CREATE with these attach types, and the link_create
 * part of union bpf_attr as the kernel lays it out.
 */
enum {
	HT_ATTACH_UPROBE_MULTI = 48,     /* BPF_TRACE_UPROBE_MULTI */
	HT_ATTACH_UPROBE_SESSION = 57,   /* BPF_TRACE_UPROBE_SESSION (6.12+) */
	HT_UPROBE_MULTI_RETURN = 1,      /* BPF_F_UPROBE_MULTI_RETURN */
};

struct ht_uprobe_multi_attr {
	uint32_t prog_fd;
	uint32_t target_fd;
	uint32_t attach_type;
	uint32_t flags;
	uint64_t path;
	uint64_t offsets;
	uint64_t ref_ctr_offsets;
	uint64_t cookies;
	uint32_t cnt;
	uint32_t multi_flags;
	uint32_t pid;
	uint32_t pad;
};

/* One attachment: a libbpf link (one probe point) or a multi link's fd. */
struct ht_link {
	struct bpf_link *link;
	int fd;
};

/* The probe kinds, in the order they are attached. PK_SESSION is the entry
 * and return of an allocating call in one session uprobe. */
enum probe_kind { PK_RETURN, PK_ENTRY, PK_SESSION, PK_FREE, __PK_MAX };

struct ht_probes {
	struct heaptrace_bpf *skel;
	enum ht_links mode;   /* how probe points are attached */
	struct ht_link *links;
	size_t nlinks, cap;
	size_t nprobes;       /* probe points attached (entries and returns) */
	bool dl_hook;         /* a link on _dl_debug_state is among links */
};

static int uprobe_multi_create(int prog_fd, uint32_t type, const char *path,
			       const uint64_t *offsets, const uint64_t *cookies, uint32_t cnt,
			       uint32_t flags, int pid)
{
	struct ht_uprobe_multi_attr a = {
		.prog_fd = (uint32_t)prog_fd,
		.attach_type = type,
		.path = (uint64_t)(uintptr_t)path,
		.offsets = (uint64_t)(uintptr_t)offsets,
		.cookies = (uint64_t)(uintptr_t)cookies,
		.cnt = cnt,
		.multi_flags = flags,
		.pid = (uint32_t)pid,
	};
	int fd = (int)syscall(__NR_bpf, BPF_LINK_CREATE, &a, sizeof(a));

	return fd < 0 ? -errno : fd;
}

/*
 * Does the kernel have uprobe_multi links of this attach type? Load a
 * trivial program of that type and link it to "/": a kernel that knows the
 * link rejects the path (not a regular file) with EBADF, one that does not
 * rejects the attach type with EINVAL - the test libbpf itself makes.
 */
static bool kernel_has_link(uint32_t type)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, po,
		    .expected_attach_type = (enum bpf_attach_type)type);
	uint64_t off = 0;
	int prog, link;

	prog = bpf_prog_load(BPF_PROG_TYPE_KPROBE, "ht_probe_multi", "GPL", insns, 2, &po);
	if (prog < 0)
		return false;
	link = uprobe_multi_create(prog, type, "/", &off, NULL, 1, 0, 0);
	if (link >= 0)
		close(link);
	close(prog);
	return link == -EBADF;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && ht_log_get_level() < HT_LOG_DEBUG)
		return 0;
	if (level == LIBBPF_INFO && ht_log_get_level() < HT_LOG_INFO)
		return 0;
	if (level == LIBBPF_WARN && ht_log_get_level() < HT_LOG_INFO)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

enum ht_links probes__links_from_env(void)
{
	const char *v = getenv("HEAPTRACE_LINKS");

	if (!v)
		return HT_LINKS_AUTO;
	if (!strcmp(v, "single"))
		return HT_LINKS_SINGLE;
	if (!strcmp(v, "multi"))
		return HT_LINKS_MULTI;
	return HT_LINKS_AUTO;
}

static const char *const links_names[] = {
	[HT_LINKS_SESSION] = "session uprobe_multi",
	[HT_LINKS_MULTI] = "uprobe_multi",
	[HT_LINKS_SINGLE] = "single uprobe",
};

/* Load each program for the links it will be attached through, and only
 * the programs those links use. */
static void set_link_types(struct heaptrace_bpf *skel, enum ht_links l)
{
	const enum bpf_attach_type multi = (enum bpf_attach_type)HT_ATTACH_UPROBE_MULTI;

	bpf_program__set_autoload(skel->progs.ht_session, l == HT_LINKS_SESSION);
	bpf_program__set_autoload(skel->progs.ht_enter, l != HT_LINKS_SESSION);
	bpf_program__set_autoload(skel->progs.ht_exit, l != HT_LINKS_SESSION);
	if (l == HT_LINKS_SINGLE)
		return;
	bpf_program__set_expected_attach_type(skel->progs.ht_session,
					      (enum bpf_attach_type)HT_ATTACH_UPROBE_SESSION);
	bpf_program__set_expected_attach_type(skel->progs.ht_enter, multi);
	bpf_program__set_expected_attach_type(skel->progs.ht_exit, multi);
	bpf_program__set_expected_attach_type(skel->progs.ht_free, multi);
}

/* The best links the kernel has, from mode down. */
static enum ht_links best_links(enum ht_links mode)
{
	if (mode == HT_LINKS_AUTO)
		mode = HT_LINKS_SESSION;
	if (mode == HT_LINKS_SESSION && !kernel_has_link(HT_ATTACH_UPROBE_SESSION))
		mode = HT_LINKS_MULTI;
	if (mode == HT_LINKS_MULTI && !kernel_has_link(HT_ATTACH_UPROBE_MULTI))
		mode = HT_LINKS_SINGLE;
	return mode;
}

/* Open the BPF object, set what the programs must know before they are
 * verified, and load it for links of this mode. NULL + errno. */
static struct heaptrace_bpf *open_load(const struct ht_probes_opts *opts, enum ht_links mode)
{
	struct heaptrace_bpf *skel = heaptrace_bpf__open();
	int err;

	if (!skel) {
		pr_err("can't open BPF object: %s\n", strerror(errno));
		return NULL;
	}
	set_link_types(skel, mode);
	skel->rodata->target_tgid = (uint32_t)opts->pid;
	skel->rodata->max_depth = opts->max_depth;
	skel->rodata->ring_bytes = opts->ring_bytes;
	skel->rodata->stack_bytes = opts->stack_bytes;
	skel->rodata->min_size = opts->min_size;
	skel->rodata->max_size = opts->max_size;
	if (opts->sample_bytes) {
		/* p(step) = 1 - exp(-(step + 1/2) / steps) of size / sample_bytes */
		skel->rodata->sample_bytes = opts->sample_bytes;
		skel->rodata->sample_seed = opts->sample_seed;
		for (int i = 0; i < HT_SAMPLE_STEPS; i++) {
			double pr = -expm1(-(i + 0.5) / HT_SAMPLE_STEPS);

			skel->rodata->sample_thr[i] = (uint32_t)(pr * 4294967296.0);
		}
	}
	err = 0;
	if (opts->sample_bytes || opts->min_size || opts->max_size)
		err = bpf_map__set_max_entries(skel->maps.sampled, opts->sampled_max);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.events, (uint32_t)opts->ring_bytes);
	bpf_program__set_autoload(skel->progs.ht_maps_change, opts->cfi_rows > 0);
	bpf_program__set_autoload(skel->progs.ht_mmap_enter, opts->mmap);
	bpf_program__set_autoload(skel->progs.ht_mmap_exit, opts->mmap);
	if (!err && opts->cfi_rows) {
		skel->rodata->unwind_cfi = 1;
		err = bpf_map__set_max_entries(skel->maps.cfi_rows, opts->cfi_rows);
	} else if (!err) {
		err = bpf_map__set_max_entries(skel->maps.cfi_objs, 1);
	}
	/* Load: the verifier checks the programs. */
	if (!err) {
		err = heaptrace_bpf__load(skel);
		if (err)
			pr_info("can't load BPF programs for %s links: %s\n", links_names[mode],
				strerror(-err));
	}
	if (err) {
		heaptrace_bpf__destroy(skel);
		errno = -err;
		return NULL;
	}
	return skel;
}

struct ht_probes *probes__load(const struct ht_probes_opts *opts)
{
	struct ht_probes *p;
	int err;

	libbpf_set_print(libbpf_print);
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;

	/* The best links the kernel has, unless told otherwise; a kernel
	 * that has session links but will not load the session program
	 * gets multi links. */
	p->mode = best_links(opts->links);
	p->skel = open_load(opts, p->mode);
	if (!p->skel && p->mode == HT_LINKS_SESSION) {
		p->mode = HT_LINKS_MULTI;
		p->skel = open_load(opts, p->mode);
	}
	if (!p->skel) {
		err = -errno;
		pr_err("can't load BPF programs: %s\n", strerror(errno));
		goto err_free;
	}
	pr_debug("attaching through %s links\n", links_names[p->mode]);

	/* Exec of the target ends its old heap: watch for it (and, with
	 * --mmap, its mmap/munmap/mremap calls). */
	err = heaptrace_bpf__attach(p->skel);
	if (err) {
		pr_err("can't attach tracepoints: %s\n", strerror(-err));
		goto err_destroy;
	}
	return p;

err_destroy:
	heaptrace_bpf__destroy(p->skel);
err_free:
	free(p);
	errno = -err;
	return NULL;
}

static void link__destroy(struct ht_link *l)
{
	if (l->link)
		bpf_link__destroy(l->link);
	else
		close(l->fd);
}

static void *destroy_link(void *l)
{
	link__destroy(l);
	return NULL;
}

/*
 * Detach links in parallel: removing a link waits for an RCU grace
 * period (~80 ms here), so one at a time would take seconds.
 */
static void destroy_links(struct ht_link *links, size_t n)
{
	pthread_t *tids = calloc(n, sizeof(*tids));
	bool *started = calloc(n, sizeof(*started));

	for (size_t i = 0; i < n; i++)
		if (n > 1 && tids && started &&
		    !pthread_create(&tids[i], NULL, destroy_link, &links[i]))
			started[i] = true;
		else
			link__destroy(&links[i]);
	for (size_t i = 0; i < n; i++)
		if (started && started[i])
			pthread_join(tids[i], NULL);
	free(tids);
	free(started);
}

static int add_link(struct ht_probes *p, struct bpf_link *link, int fd)
{
	if (grow_array((void **)&p->links, &p->cap, p->nlinks + 1, sizeof(*p->links)))
		return -ENOMEM;
	p->links[p->nlinks].link = link;
	p->links[p->nlinks].fd = fd;
	p->nlinks++;
	return 0;
}

static struct bpf_program *kind_prog(const struct ht_probes *p, enum probe_kind k)
{
	switch (k) {
	case PK_RETURN:
		return p->skel->progs.ht_exit;
	case PK_ENTRY:
		return p->skel->progs.ht_enter;
	case PK_SESSION:
		return p->skel->progs.ht_session;
	default:
		return p->skel->progs.ht_free;
	}
}

static const char *kind_name(enum probe_kind k)
{
	static const char *const names[] = {
		[PK_RETURN] = "uretprobe", [PK_ENTRY] = "uprobe",
		[PK_SESSION] = "session uprobe", [PK_FREE] = "uprobe",
	};

	return names[k];
}

/* Are probes of kind k attached with these links? */
static bool links_use_kind(enum ht_links l, enum probe_kind k)
{
	if (k == PK_SESSION)
		return l == HT_LINKS_SESSION;
	return k == PK_FREE || l != HT_LINKS_SESSION;
}

/* Does points[i] get a probe of kind k? */
static bool point_has_kind(const struct ht_probe_set *set, size_t i, enum probe_kind k)
{
	bool is_free = layout_is_free(set->points[i].layout);

	return k == PK_FREE ? is_free : !is_free;
}

static void report_attach_error(int err, enum probe_kind k, const char *what, const char *path)
{
	/* a permission error, or the target gone, is the caller's one-line
	 * message */
	if (err == -EACCES || err == -EPERM || err == -ESRCH)
		pr_info("can't attach %s '%s' in '%s': %s\n", kind_name(k), what, path,
			strerror(-err));
	else
		pr_err("can't attach %s '%s' in '%s': %s\n", kind_name(k), what, path,
		       strerror(-err));
}

static int attach_one(struct ht_probes *p, struct ht_modules *ms, int pid,
		      const struct ht_probe_set *set, size_t i, enum probe_kind k)
{
	const struct ht_probe_point *pt = &set->points[i];
	struct ht_module *mod = modules__get(ms, pt->module);
	LIBBPF_OPTS(bpf_uprobe_opts, uo);
	struct bpf_link *link;
	char path[4200];
	int err;

	err = modules__probe_path(ms, mod, path, sizeof(path));
	if (err) {
		report_attach_error(err, k, pt->func, mod->path);
		return err;
	}
	uo.bpf_cookie = HT_COOKIE(i, pt->layout, pt->leaf);
	uo.retprobe = k == PK_RETURN;
	link = bpf_program__attach_uprobe_opts(kind_prog(p, k), pid, path, pt->offset, &uo);
	if (!link) {
		err = -errno;
		report_attach_error(err, k, pt->func, mod->path);
		return err;
	}
	if (add_link(p, link, -1)) {
		bpf_link__destroy(link);
		return -ENOMEM;
	}
	p->nprobes++;
	pr_debug("attached %s %s at %s+0x%llx\n", kind_name(k), pt->func, mod->path,
		 (unsigned long long)pt->offset);
	return 0;
}

/*
 * One uprobe_multi link for every point of kind k in module mod among
 * points[from..], each point's cookie telling the program which it is.
 */
static int attach_multi(struct ht_probes *p, struct ht_modules *ms, int pid,
			const struct ht_probe_set *set, size_t from, size_t mod,
			enum probe_kind k)
{
	struct ht_module *m = modules__get(ms, mod);
	uint64_t *offsets, *cookies;
	uint32_t cnt = 0;
	char path[4200];
	int err, fd;

	offsets = calloc(set->n - from, sizeof(*offsets));
	cookies = calloc(set->n - from, sizeof(*cookies));
	err = offsets && cookies ? 0 : -ENOMEM;
	for (size_t i = from; i < set->n && !err; i++) {
		if (set->points[i].module != mod || !point_has_kind(set, i, k))
			continue;
		offsets[cnt] = set->points[i].offset;
		cookies[cnt++] = HT_COOKIE(i, set->points[i].layout, set->points[i].leaf);
	}
	if (!err && cnt)
		err = modules__probe_path(ms, m, path, sizeof(path));
	if (!err && cnt) {
		fd = uprobe_multi_create(bpf_program__fd(kind_prog(p, k)),
					 k == PK_SESSION ? HT_ATTACH_UPROBE_SESSION
							 : HT_ATTACH_UPROBE_MULTI,
					 path, offsets, cookies, cnt,
					 k == PK_RETURN ? HT_UPROBE_MULTI_RETURN : 0, pid);
		err = fd < 0 ? fd : add_link(p, NULL, fd);
		if (fd >= 0 && err)
			close(fd);
	}
	free(offsets);
	free(cookies);
	if (err) {
		report_attach_error(err, k, "uprobe_multi", m->path);
		return err;
	}
	/* a session probe is an entry and a return */
	p->nprobes += k == PK_SESSION ? 2 * cnt : cnt;
	if (cnt)
		pr_debug("attached %u %ss in %s through one link\n", cnt, kind_name(k), m->path);
	return 0;
}

/*
 * A perf-event link refuses a process that is exiting (ESRCH); a multi
 * link takes it as long as its pid exists, zombie or not. Tell the same.
 */
static int check_alive(int pid)
{
	char path[64], buf[512], *state = NULL;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (f && fgets(buf, sizeof(buf), f))
		state = strrchr(buf, ')');  /* "PID (comm) S ..." */
	if (f)
		fclose(f);
	if (!state || (state[1] == ' ' && (state[2] == 'Z' || state[2] == 'X')))
		return -ESRCH;
	return 0;
}

/* Is points[i] the first of points[from..] in its module? */
static bool first_of_module(const struct ht_probe_set *set, size_t from, size_t i)
{
	for (size_t j = from; j < i; j++)
		if (set->points[j].module == set->points[i].module)
			return false;
	return true;
}

int probes__attach_from(struct ht_probes *p, struct ht_modules *ms,
			const struct ht_probe_set *set, size_t from)
{
	int pid = (int)p->skel->rodata->target_tgid;
	size_t nlinks = p->nlinks, nprobes = p->nprobes;
	int err = 0;

	/* Returns first: an entry seen without its return would leave the
	 * thread looking nested (a session link has both at once). Frees last. */
	for (int k = 0; k < __PK_MAX && !err; k++) {
		if (!links_use_kind(p->mode, k))
			continue;
		for (size_t i = from; i < set->n && !err; i++) {
			if (p->mode == HT_LINKS_SINGLE && point_has_kind(set, i, k))
				err = attach_one(p, ms, pid, set, i, k);
			else if (p->mode != HT_LINKS_SINGLE && first_of_module(set, from, i))
				err = attach_multi(p, ms, pid, set, from, set->points[i].module, k);
		}
	}
	if (!err && p->mode != HT_LINKS_SINGLE)
		err = check_alive(pid);
	if (err) {
		destroy_links(p->links + nlinks, p->nlinks - nlinks);
		p->nlinks = nlinks;
		p->nprobes = nprobes;
	}
	return err;
}

int probes__attach(struct ht_probes *p, struct ht_modules *ms,
		   const struct ht_probe_set *set)
{
	return probes__attach_from(p, ms, set, 0);
}

int probes__cfi_objs_fd(const struct ht_probes *p)
{
	return p->skel->rodata->unwind_cfi ? bpf_map__fd(p->skel->maps.cfi_objs) : -1;
}

int probes__cfi_rows_fd(const struct ht_probes *p)
{
	return p->skel->rodata->unwind_cfi ? bpf_map__fd(p->skel->maps.cfi_rows) : -1;
}

int probes__ringbuf_fd(const struct ht_probes *p)
{
	return bpf_map__fd(p->skel->maps.events);
}

int probes__counters(const struct ht_probes *p, uint64_t out[__HT_C_MAX])
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t (*per_cpu)[__HT_C_MAX];
	uint32_t zero = 0;

	int err = 0;

	memset(out, 0, sizeof(uint64_t) * __HT_C_MAX);
	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	per_cpu = calloc((size_t)ncpu, sizeof(*per_cpu));
	if (!per_cpu)
		return -ENOMEM;
	if (bpf_map_lookup_elem(bpf_map__fd(p->skel->maps.counters), &zero, per_cpu))
		err = -errno;
	for (int cpu = 0; cpu < ncpu && !err; cpu++)
		for (int i = 0; i < __HT_C_MAX; i++)
			out[i] += per_cpu[cpu][i];
	free(per_cpu);
	if (err)
		pr_err("can't read BPF counters: %s\n", strerror(-err));
	return err;
}

uint64_t probes__exec_count(const struct ht_probes *p)
{
	return __atomic_load_n(&p->skel->bss->exec_count, __ATOMIC_ACQUIRE);
}

int probes__attach_dl_hook(struct ht_probes *p, const char *path, uint64_t offset)
{
	LIBBPF_OPTS(bpf_uprobe_opts, uo);
	struct bpf_link *link;

	if (p->dl_hook)
		return -EEXIST;
	link = bpf_program__attach_uprobe_opts(p->skel->progs.ht_dl_change,
					       (int)p->skel->rodata->target_tgid, path, offset, &uo);
	if (!link)
		return -errno;
	/* detached with the others, in parallel */
	if (add_link(p, link, -1)) {
		bpf_link__destroy(link);
		return -ENOMEM;
	}
	p->dl_hook = true;
	return 0;
}

uint64_t probes__dl_changes(const struct ht_probes *p)
{
	return __atomic_load_n(&p->skel->bss->dl_changes, __ATOMIC_ACQUIRE);
}

size_t probes__nr_probes(const struct ht_probes *p)
{
	return p->nprobes;
}

void probes__destroy(struct ht_probes *p)
{
	if (!p)
		return;
	destroy_links(p->links, p->nlinks);
	free(p->links);
	heaptrace_bpf__destroy(p->skel);
	free(p);
}
