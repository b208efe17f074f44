// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <unistd.h>
#include "perfmap.h"
#include "util.h"

struct pm_entry {
	uint64_t start, end;  /* [start, end) */
	uint32_t seq;         /* line order: later lines win */
	char *name;
};

struct ht_perfmap {
	int pid;              /* 0 for perfmap__open() */
	char *path;           /* the file read last, or the fixed one */
	char *display;
	bool read_once;
	struct stat seen;     /* of the file when it was read */
	struct pm_entry *ents;  /* sorted by start, then seq */
	uint64_t *max_end;    /* max_end[i]: largest end in ents[0..i] */
	size_t n;
	uid_t target_uid;
	bool uid_known;
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A hex number of 1-16 digits, optionally 0x-prefixed, then a blank. */
static int parse_hex(const char **sp, uint64_t *out)
{
	const char *s = *sp;
	uint64_t v = 0;
	int n = 0, d;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && hex_digit(s[2]) >= 0)
		s += 2;
	while ((d = hex_digit(*s)) >= 0) {
		if (++n > 16)
			return -EINVAL;
		v = v << 4 | (uint64_t)d;
		s++;
	}
	if (!n || !is_blank(*s))
		return -EINVAL;
	while (is_blank(*s))
		s++;
	*sp = s;
	*out = v;
	return 0;
}

int perfmap__parse_line(const char *line, uint64_t *start, uint64_t *size, const char **name,
			size_t *name_len)
{
	const char *s = line;
	uint64_t a, n;
	size_t len;

	if (!line)
		return -EINVAL;
	while (is_blank(*s))
		s++;
	if (parse_hex(&s, &a) || parse_hex(&s, &n))
		return -EINVAL;
	len = strcspn(s, "\r\n");
	while (len && is_blank(s[len - 1]))
		len--;
	if (!len)
		return -EINVAL;
	/* Anything after a line break is not part of this line. */
	if (s[len] && s[len + strspn(s + len, " \t\r\n")])
		return -EINVAL;
	if (!n || n > HT_PERFMAP_MAX_SIZE || a + n < a)
		return -ERANGE;
	*start = a;
	*size = n;
	*name = s;
	*name_len = len;
	return 0;
}

static struct ht_perfmap *alloc_map(void)
{
	return calloc(1, sizeof(struct ht_perfmap));
}

struct ht_perfmap *perfmap__open(const char *path, const char *display)
{
	struct ht_perfmap *pm = alloc_map();

	if (!pm)
		return NULL;
	pm->path = strdup(path);
	pm->display = strdup(display ? display : path);
	if (!pm->path || !pm->display) {
		perfmap__free(pm);
		errno = ENOMEM;
		return NULL;
	}
	return pm;
}

/* The target's pid in its own pid namespace (the last NSpid field). */
static int ns_pid(int pid)
{
	char path[64], line[256];
	int nspid = pid;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f)
		return pid;
	while (fgets(line, sizeof(line), f)) {
		char *s = line + 6, *end;
		long v;

		if (strncmp(line, "NSpid:", 6))
			continue;
		for (;;) {
			errno = 0;
			v = strtol(s, &end, 10);
			if (end == s || errno || v <= 0 || v > 0x7fffffff)
				break;
			nspid = (int)v;
			s = end;
		}
		break;
	}
	fclose(f);
	return nspid;
}

struct ht_perfmap *perfmap__new(int pid)
{
	struct ht_perfmap *pm = alloc_map();
	char buf[64];
	struct stat st;

	if (!pm)
		return NULL;
	pm->pid = pid;
	snprintf(buf, sizeof(buf), "/tmp/perf-%d.map", ns_pid(pid));
	pm->display = strdup(buf);
	if (!pm->display) {
		free(pm);
		errno = ENOMEM;
		return NULL;
	}
	snprintf(buf, sizeof(buf), "/proc/%d", pid);
	if (!stat(buf, &st)) {
		pm->target_uid = st.st_uid;
		pm->uid_known = true;
	}
	return pm;
}

static void drop_entries(struct ht_perfmap *pm)
{
	for (size_t i = 0; i < pm->n; i++)
		free(pm->ents[i].name);
	free(pm->ents);
	free(pm->max_end);
	pm->ents = NULL;
	pm->max_end = NULL;
	pm->n = 0;
}

void perfmap__free(struct ht_perfmap *pm)
{
	if (!pm)
		return;
	drop_entries(pm);
	free(pm->path);
	free(pm->display);
	free(pm);
}

const char *perfmap__display(const struct ht_perfmap *pm)
{
	return pm->display;
}

size_t perfmap__count(const struct ht_perfmap *pm)
{
	return pm->n;
}

/* openat2(2), or open(2) where the kernel has none (before 5.6). */
static int open_in(int dirfd, const char *path, uint64_t resolve)
{
	const int flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY;
	int fd = sys_openat2(dirfd, path, flags, resolve);

	if (fd < 0 && errno == ENOSYS)
		fd = openat(dirfd, path[0] == '/' && dirfd != AT_FDCWD ? path + 1 : path, flags);
	return fd;
}

/*
 * Open the map file: a regular file, not through a symlink, owned by
 * root, by us or by the target (/tmp is world-writable: anyone could
 * plant a perf-PID.map for somebody else's process). Inside the target's
 * root, the path is resolved in that root: its symlinks cannot lead out.
 */
static int open_checked(struct ht_perfmap *pm, int dirfd, const char *path, uint64_t resolve,
			struct stat *st)
{
	int fd = open_in(dirfd, path, resolve);

	if (fd < 0)
		return -errno;
	if (fstat(fd, st) || !S_ISREG(st->st_mode) ||
	    (st->st_uid != 0 && st->st_uid != geteuid() &&
	     !(pm->uid_known && st->st_uid == pm->target_uid))) {
		close(fd);
		return -EPERM;
	}
	return fd;
}

/* The file to read now, open, and its path (allocated). */
static int open_map(struct ht_perfmap *pm, struct stat *st, char **path)
{
	char buf[128];
	int fd = -ENOENT, root;

	if (!pm->pid) {
		*path = strdup(pm->path);
		if (!*path)
			return -ENOMEM;
		fd = open_checked(pm, AT_FDCWD, *path, 0, st);
		if (fd < 0) {
			free(*path);
			*path = NULL;
		}
		return fd;
	}
	/* The target's /tmp first: it may live in another mount namespace. */
	snprintf(buf, sizeof(buf), "/proc/%d/root", pm->pid);
	root = open(buf, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root >= 0) {
		fd = open_checked(pm, root, pm->display, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
				  st);
		close(root);
		snprintf(buf, sizeof(buf), "/proc/%d/root%s", pm->pid, pm->display);
	}
	if (fd < 0) {
		snprintf(buf, sizeof(buf), "/tmp/perf-%d.map", pm->pid);
		fd = open_checked(pm, AT_FDCWD, buf, RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
				  st);
	}
	if (fd < 0)
		return fd;
	*path = strdup(buf);
	if (!*path) {
		close(fd);
		return -ENOMEM;
	}
	return fd;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct pm_entry *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static char *copy_name(const char *name, size_t len)
{
	char *s;

	if (len > HT_PERFMAP_MAX_NAME)
		len = HT_PERFMAP_MAX_NAME;
	s = malloc(len + 1);
	if (!s)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		s[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	s[len] = '\0';
	return s;
}

static int add_line(const char *line, struct pm_entry **ents, size_t *n, size_t *cap)
{
	uint64_t start, size;
	const char *name;
	size_t len;
	char *copy;

	if (perfmap__parse_line(line, &start, &size, &name, &len))
		return 0;       /* a bad line costs only itself */
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 256;
		struct pm_entry *p = realloc(*ents, ncap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		*ents = p;
		*cap = ncap;
	}
	copy = copy_name(name, len);
	if (!copy)
		return -ENOMEM;
	(*ents)[*n] = (struct pm_entry){ start, start + size, (uint32_t)*n, copy };
	(*n)++;
	return 0;
}

/* Parse and add one complete line (NUL-terminated, len bytes). */
static int end_line(const char *line, size_t len, struct pm_entry **ents, size_t *n,
		    size_t *cap)
{
	/* An embedded NUL would hide the rest of the line from the parser. */
	if (memchr(line, '\0', len))
		return 0;
	return add_line(line, ents, n, cap);
}

/*
 * Read the whole file (at most HT_PERFMAP_MAX_BYTES, HT_PERFMAP_MAX_ENTRIES
 * lines) into a fresh table that replaces the old one. Lines longer than
 * HT_PERFMAP_MAX_LINE are skipped whole. Closes fd.
 */
static int load(struct ht_perfmap *pm, int fd, const struct stat *st)
{
	enum { CHUNK = 65536 };
	struct pm_entry *ents = NULL;
	size_t n = 0, cap = 0, lines = 0, llen = 0, total = 0;
	char *line = malloc(HT_PERFMAP_MAX_LINE + 1), *chunk = malloc(CHUNK);
	bool overlong = false;
	uint64_t *max_end = NULL;
	int err = 0;

	if (!line || !chunk)
		err = -ENOMEM;
	while (!err && lines < HT_PERFMAP_MAX_ENTRIES && total < HT_PERFMAP_MAX_BYTES) {
		ssize_t r = read(fd, chunk, CHUNK);
		const char *p = chunk, *end;

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			err = -errno;
		if (r <= 0)
			break;
		total += (size_t)r;
		end = chunk + r;
		while (!err && p < end && lines < HT_PERFMAP_MAX_ENTRIES) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t take = (size_t)((nl ? nl : end) - p);

			if (!overlong && llen + take > HT_PERFMAP_MAX_LINE)
				overlong = true;
			if (!overlong) {
				memcpy(line + llen, p, take);
				llen += take;
			}
			if (!nl)
				break;
			if (!overlong) {
				line[llen] = '\0';
				err = end_line(line, llen, &ents, &n, &cap);
			}
			lines++;
			llen = 0;
			overlong = false;
			p = nl + 1;
		}
	}
	/*
	 * A last line without its newline is ignored: the JIT may be writing
	 * it, and a name cut short is a wrong name. The file changes when the
	 * line is complete, and the next miss reads it again.
	 */
	close(fd);
	free(chunk);
	free(line);
	if (!err && n) {
		max_end = malloc(n * sizeof(*max_end));
		if (!max_end)
			err = -ENOMEM;
	}
	if (err) {
		for (size_t i = 0; i < n; i++)
			free(ents[i].name);
		free(ents);
		return err;
	}
	if (n)
		qsort(ents, n, sizeof(*ents), cmp_entry);
	for (size_t i = 0; i < n; i++)
		max_end[i] = i && max_end[i - 1] > ents[i].end ? max_end[i - 1] : ents[i].end;
	drop_entries(pm);
	pm->ents = ents;
	pm->max_end = max_end;
	pm->n = n;
	pm->seen = *st;
	return 0;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Re-read the file if it is new or changed; 0 or -errno. */
static int refresh(struct ht_perfmap *pm)
{
	struct stat st;
	char *path = NULL;
	int fd, err;

	fd = open_map(pm, &st, &path);
	if (fd < 0)
		return fd;
	if (pm->read_once && same_file(&st, &pm->seen)) {
		close(fd);
		free(path);
		return 0;
	}
	err = load(pm, fd, &st);
	if (err) {
		free(path);
		return err;
	}
	pm->read_once = true;
	free(pm->path);
	pm->path = path;
	return 0;
}

static const struct pm_entry *find(const struct ht_perfmap *pm, uint64_t addr)
{
	const struct pm_entry *best = NULL;
	size_t lo = 0, hi = pm->n;

	/* hi = the number of entries starting at or below addr */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (pm->ents[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i-- > 0 && pm->max_end[i] > addr;) {
		const struct pm_entry *e = &pm->ents[i];

		if (addr < e->end && (!best || e->seq > best->seq))
			best = e;
	}
	return best;
}

const char *perfmap__lookup(struct ht_perfmap *pm, uint64_t addr)
{
	const struct pm_entry *e = pm->read_once ? find(pm, addr) : NULL;

	if (e)
		return e->name;
	if (refresh(pm))
		return NULL;
	e = find(pm, addr);
	return e ? e->name : NULL;
}
