// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <glob.h>
#include <libelf.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "elfsym.h"
#include "ldso.h"
#include "modules.h"
#include "util.h"

#define MAX_OBJECTS 1024

struct obj {
	char *path;      /* real path */
	char *name;      /* as requested */
	char *soname;
	char *rpath, *runpath;
	char **needed;
	size_t nneeded, cap_needed;
};

struct ldso {
	struct obj *objs;
	size_t n, cap;
	char **dirs;     /* ld.so.conf, then the defaults */
	size_t ndirs, cap_dirs;
	char *const *envp;  /* the command's environment (NULL: ours) */
};

/* name's value in the command's environment. */
static const char *env_get(const struct ldso *l, const char *name)
{
	size_t len = strlen(name);

	if (!l->envp)
		return getenv(name);
	for (char *const *e = l->envp; *e; e++)
		if (!strncmp(*e, name, len) && (*e)[len] == '=')
			return *e + len + 1;
	return NULL;
}

static const char *const default_dirs[] = {
	"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64",
	"/lib", "/usr/lib",
};

static void obj_free(struct obj *o)
{
	free(o->path);
	free(o->name);
	free(o->soname);
	free(o->rpath);
	free(o->runpath);
	for (size_t i = 0; i < o->nneeded; i++)
		free(o->needed[i]);
	free(o->needed);
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/*
 * Read what the loader needs from an ELF file; false if it is not a
 * 64-bit x86-64 ELF object (a 32-bit library in a searched directory is
 * skipped, like the loader does).
 */
static int read_dyn(int64_t tag, const char *str, void *ctx)
{
	struct obj *o = ctx;

	if (tag == DT_RPATH && !o->rpath)
		o->rpath = strdup(str);
	else if (tag == DT_RUNPATH && !o->runpath)
		o->runpath = strdup(str);
	else if (tag == DT_SONAME && !o->soname)
		o->soname = strdup(str);
	else if (tag == DT_NEEDED &&
		 !grow_array((void **)&o->needed, &o->cap_needed, o->nneeded + 1,
			     sizeof(*o->needed)))
		o->needed[o->nneeded++] = strdup(str);
	return 0;
}

static bool read_obj(const char *path, struct obj *o, char *interp, size_t ilen)
{
	struct ht_elf *e;
	bool ok;
	int fd;

	memset(o, 0, sizeof(*o));
	if (interp)
		interp[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	e = ht_elf__open_fd(fd);
	close(fd);
	if (!e)
		return false;
	ok = ht_elf__is_x86_64(e);
	if (ok && interp)
		ht_elf__interp(e, interp, ilen);
	if (ok)
		ht_elf__foreach_dynamic(e, read_dyn, o);
	ht_elf__close(e);
	return ok;
}

/* A loadable object at path? Its real path (malloc'd), or NULL. */
static char *try_path(const char *path)
{
	struct obj o;
	char *real;

	if (!read_obj(path, &o, NULL, 0))
		return NULL;
	obj_free(&o);
	real = realpath(path, NULL);
	return real;
}

/* Expand $ORIGIN, $LIB and $PLATFORM (also as ${...}) in one directory. */
static void expand(const char *dir, size_t len, const char *origin, char *out, size_t olen)
{
	static const struct { const char *var, *val; } vars[] = {
		{ "ORIGIN", NULL }, { "LIB", "lib/x86_64-linux-gnu" }, { "PLATFORM", "x86_64" },
	};
	size_t at = 0;

	for (size_t i = 0; i < len && at + 1 < olen;) {
		bool done = false;

		if (dir[i] == '$') {
			for (size_t v = 0; v < ARRAY_SIZE(vars) && !done; v++) {
				size_t vl = strlen(vars[v].var);
				const char *val = vars[v].val ? vars[v].val : origin;
				size_t skip = 0;

				if (i + 1 + vl <= len && !strncmp(dir + i + 1, vars[v].var, vl))
					skip = 1 + vl;
				else if (i + 3 + vl <= len && dir[i + 1] == '{' &&
					 !strncmp(dir + i + 2, vars[v].var, vl) && dir[i + 2 + vl] == '}')
					skip = 3 + vl;
				if (!skip)
					continue;
				at += (size_t)snprintf(out + at, olen - at, "%s", val ? val : ".");
				if (at >= olen)
					at = olen - 1;
				i += skip;
				done = true;
			}
		}
		if (!done)
			out[at++] = dir[i++];
	}
	out[at] = '\0';
}

/* Look for name in a colon-separated list of directories. */
static char *search_list(const char *list, const char *name, const char *origin)
{
	for (const char *p = list; p && *p;) {
		size_t len = strcspn(p, ":;");
		char dir[PATH_MAX], path[PATH_MAX + 256];
		char *found;

		expand(p, len, origin, dir, sizeof(dir));
		snprintf(path, sizeof(path), "%s/%s", dir[0] ? dir : ".", name);
		found = try_path(path);
		if (found)
			return found;
		p += len;
		if (*p)
			p++;
	}
	return NULL;
}

static void origin_of(const struct obj *o, char *buf, size_t len)
{
	const char *slash = strrchr(o->path, '/');

	snprintf(buf, len, "%.*s", slash ? (int)(slash - o->path) : 1, slash ? o->path : "/");
}

/* Resolve a library name requested by req (NULL for LD_PRELOAD). */
static char *resolve(struct ldso *l, const char *name, const struct obj *req)
{
	const struct obj *exe = &l->objs[0];
	char origin[PATH_MAX], exe_origin[PATH_MAX];
	char *found = NULL;

	if (strchr(name, '/'))
		return try_path(name);
	origin_of(exe, exe_origin, sizeof(exe_origin));
	if (req && !req->runpath) {
		origin_of(req, origin, sizeof(origin));
		found = search_list(req->rpath, name, origin);
		if (!found && req != exe && !exe->runpath)
			found = search_list(exe->rpath, name, exe_origin);
	}
	if (!found)
		found = search_list(env_get(l, "LD_LIBRARY_PATH"), name, exe_origin);
	if (!found && req && req->runpath) {
		origin_of(req, origin, sizeof(origin));
		found = search_list(req->runpath, name, origin);
	}
	for (size_t i = 0; !found && i < l->ndirs; i++) {
		char path[PATH_MAX + 256];

		snprintf(path, sizeof(path), "%s/%s", l->dirs[i], name);
		found = try_path(path);
	}
	return found;
}

static bool loaded(const struct ldso *l, const char *name, const char *path)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct obj *o = &l->objs[i];

		if ((name && ((o->name && !strcmp(o->name, name)) ||
			      (o->soname && !strcmp(o->soname, name)))) ||
		    (path && !strcmp(o->path, path)))
			return true;
	}
	return false;
}

/* Add the object at real path `path` (taken over), requested as name. */
static int add_obj(struct ldso *l, char *path, const char *name, char *interp, size_t ilen)
{
	struct obj o;

	if (loaded(l, NULL, path) || l->n >= MAX_OBJECTS || !read_obj(path, &o, interp, ilen)) {
		free(path);
		return 0;
	}
	o.path = path;
	o.name = dup_or_null(name);
	if (grow_array((void **)&l->objs, &l->cap, l->n + 1, sizeof(*l->objs))) {
		obj_free(&o);
		return -ENOMEM;
	}
	l->objs[l->n++] = o;
	return 0;
}

static void add_dir(struct ldso *l, const char *dir)
{
	for (size_t i = 0; i < l->ndirs; i++)
		if (!strcmp(l->dirs[i], dir))
			return;
	if (!grow_array((void **)&l->dirs, &l->cap_dirs, l->ndirs + 1, sizeof(*l->dirs)) &&
	    (l->dirs[l->ndirs] = strdup(dir)))
		l->ndirs++;
}

/* /etc/ld.so.conf and its includes: the directories ldconfig caches. */
static void read_conf(struct ldso *l, const char *path, int depth)
{
	char line[PATH_MAX];
	FILE *f;

	if (depth > 4 || !(f = fopen(path, "re")))
		return;
	while (fgets(line, sizeof(line), f)) {
		char *s = line, *end;

		s[strcspn(s, "#\n")] = '\0';
		s += strspn(s, " \t");
		end = s + strlen(s);
		while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		if (!*s)
			continue;
		if (!strncmp(s, "include", 7) && (s[7] == ' ' || s[7] == '\t')) {
			char pattern[PATH_MAX];
			glob_t g;

			s += 8;
			s += strspn(s, " \t");
			if (*s == '/')
				snprintf(pattern, sizeof(pattern), "%s", s);
			else
				snprintf(pattern, sizeof(pattern), "/etc/%s", s);
			if (!glob(pattern, 0, NULL, &g)) {
				for (size_t i = 0; i < g.gl_pathc; i++)
					read_conf(l, g.gl_pathv[i], depth + 1);
				globfree(&g);
			}
			continue;
		}
		if (*s == '/')
			add_dir(l, s);
	}
	fclose(f);
}

/* The file execvp would run for argv0; through up to 4 #! lines. */
static char *find_executable(const struct ldso *l, const char *argv0)
{
	char path[PATH_MAX];

	if (strchr(argv0, '/')) {
		snprintf(path, sizeof(path), "%s", argv0);
	} else {
		const char *list = env_get(l, "PATH");
		bool found = false;

		if (!list)
			list = "/bin:/usr/bin";
		for (const char *p = list; *p && !found;) {
			size_t len = strcspn(p, ":");
			struct stat st;

			snprintf(path, sizeof(path), "%.*s/%s", len ? (int)len : 1,
				 len ? p : ".", argv0);
			found = !stat(path, &st) && S_ISREG(st.st_mode) && !access(path, X_OK);
			p += len;
			if (*p)
				p++;
		}
		if (!found)
			return NULL;
	}
	for (int level = 0; level < 4; level++) {
		char head[PATH_MAX + 2], *s;
		ssize_t n;
		int fd = open(path, O_RDONLY | O_CLOEXEC);

		if (fd < 0)
			return NULL;
		n = read(fd, head, sizeof(head) - 1);
		close(fd);
		if (n < 2 || head[0] != '#' || head[1] != '!')
			break;
		head[n] = '\0';
		s = head + 2;
		s += strspn(s, " \t");
		s[strcspn(s, " \t\n")] = '\0';
		if (!*s)
			return NULL;
		snprintf(path, sizeof(path), "%s", s);
	}
	return realpath(path, NULL);
}

static int add_preloads(struct ldso *l, const char *list)
{
	for (const char *p = list; p && *p;) {
		size_t len = strcspn(p, " :\t\n");

		if (len) {
			char name[PATH_MAX];
			char *path;
			int err;

			snprintf(name, sizeof(name), "%.*s", (int)len, p);
			path = resolve(l, name, NULL);
			if (path && (err = add_obj(l, path, name, NULL, 0)))
				return err;
		}
		p += len;
		p += strspn(p, " :\t\n");
	}
	return 0;
}

static char *read_text_file(const char *path)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = fopen(path, "re");

	if (!f)
		return NULL;
	if (getdelim(&buf, &len, '\0', f) < 0) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

int ldso__command_objects(char *const argv[], char *const envp[],
			  int (*cb)(const char *path, void *ctx), void *ctx)
{
	struct ldso l = { .envp = envp };
	char interp[PATH_MAX], *exe, *preload;
	int err = 0;

	if (!argv || !argv[0] || elf_version(EV_CURRENT) == EV_NONE)
		return -ENOENT;
	exe = find_executable(&l, argv[0]);
	if (!exe)
		return -ENOENT;
	err = add_obj(&l, exe, NULL, interp, sizeof(interp));
	if (err || !l.n) {
		err = err ? err : -ENOENT;
		goto out;
	}
	/* A static program maps nothing else. */
	if (interp[0]) {
		char *ip = try_path(interp);

		if (ip && (err = add_obj(&l, ip, NULL, NULL, 0)))
			goto out;
		read_conf(&l, "/etc/ld.so.conf", 0);
		for (size_t i = 0; i < ARRAY_SIZE(default_dirs); i++)
			add_dir(&l, default_dirs[i]);
		err = add_preloads(&l, env_get(&l, "LD_PRELOAD"));
		preload = read_text_file("/etc/ld.so.preload");
		if (!err && preload)
			err = add_preloads(&l, preload);
		free(preload);
		/* Breadth-first, as the loader maps them. */
		for (size_t i = 0; i < l.n && !err; i++) {
			for (size_t k = 0; k < l.objs[i].nneeded && !err; k++) {
				const char *name = l.objs[i].needed[k];
				char *path;

				if (loaded(&l, name, NULL))
					continue;
				path = resolve(&l, name, &l.objs[i]);
				if (path)
					err = add_obj(&l, path, name, NULL, 0);
			}
		}
		if (err)
			goto out;
	}
	for (size_t i = 0; i < l.n && !err; i++)
		err = cb(l.objs[i].path, ctx);
out:
	for (size_t i = 0; i < l.n; i++)
		obj_free(&l.objs[i]);
	free(l.objs);
	for (size_t i = 0; i < l.ndirs; i++)
		free(l.dirs[i]);
	free(l.dirs);
	return err;
}

struct scope {
	struct ht_modules *ms;
	size_t *order;
	size_t n, max;
};

static bool in_scope(const struct scope *sc, size_t mi)
{
	for (size_t i = 0; i < sc->n; i++)
		if (sc->order[i] == mi)
			return true;
	return false;
}

/* Does the loader's name for an object (a DT_NEEDED entry, a preload)
 * name module m? By path, by DT_SONAME or by file name. */
static bool names_module(struct ht_module *m, const char *name)
{
	const char *base = strrchr(m->path, '/'), *want = strrchr(name, '/');
	struct ht_elf *e = modules__elf(m);
	const char *so = e ? ht_elf__soname(e) : NULL;

	if (want && !strcmp(name, m->path))
		return true;
	base = base ? base + 1 : m->path;
	want = want ? want + 1 : name;
	return !strcmp(base, want) || (so && !strcmp(so, want));
}

static int scope_add(const char *name, void *ctx)
{
	struct scope *sc = ctx;

	for (size_t mi = 0; mi < modules__count(sc->ms) && sc->n < sc->max; mi++) {
		struct ht_module *m = modules__get(sc->ms, mi);

		if (m->fd < 0 || !m->has_exec || !names_module(m, name))
			continue;
		if (!in_scope(sc, mi))
			sc->order[sc->n++] = mi;
		break;
	}
	return 0;
}

static void scope_add_list(struct scope *sc, const char *list)
{
	for (const char *p = list; p && *p;) {
		size_t len = strcspn(p, " :\t\n");
		char name[PATH_MAX];

		if (len && len < sizeof(name)) {
			memcpy(name, p, len);
			name[len] = '\0';
			scope_add(name, sc);
		}
		p += len;
		p += strspn(p, " :\t\n");
	}
}

/* The value of LD_PRELOAD in the process's environment (malloc'd), or NULL. */
static char *process_preload(int pid)
{
	char path[64], *env, *val = NULL;
	FILE *f;
	size_t len = 0;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/environ", pid);
	f = fopen(path, "re");
	if (!f)
		return NULL;
	env = NULL;
	while ((n = getdelim(&env, &len, '\0', f)) > 0 && !val)
		if (!strncmp(env, "LD_PRELOAD=", 11))
			val = strdup(env + 11);
	free(env);
	fclose(f);
	return val;
}

/* The module /proc/PID/exe is, or the first one. */
static size_t process_exe(struct ht_modules *ms)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/exe", modules__pid(ms));
	if (!stat(path, &st))
		for (size_t mi = 0; mi < modules__count(ms); mi++) {
			const struct ht_module *m = modules__get(ms, mi);

			if (m->inode == st.st_ino && m->dev == st.st_dev)
				return mi;
		}
	return 0;
}

int ldso__scope(struct ht_modules *ms, size_t *order, size_t max)
{
	struct scope sc = { ms, order, 0, max };
	struct ht_elf *e;
	char *preload;
	size_t exe;

	if (!modules__count(ms) || !max)
		return 0;
	exe = process_exe(ms);
	order[sc.n++] = exe;
	e = modules__elf(modules__get(ms, exe));
	if (!e || !ht_elf__has_interp(e))
		return (int)sc.n;
	preload = process_preload(modules__pid(ms));
	scope_add_list(&sc, preload);
	free(preload);
	preload = read_text_file("/etc/ld.so.preload");
	scope_add_list(&sc, preload);
	free(preload);
	/* Breadth-first, as the loader maps them. */
	for (size_t i = 0; i < sc.n; i++) {
		e = modules__elf(modules__get(ms, order[i]));
		if (e)
			ht_elf__foreach_needed(e, scope_add, &sc);
	}
	return (int)sc.n;
}

/* The dynamic linker by name: ld-linux-x86-64.so.2 (or its SONAME). */
static bool is_ldso(struct ht_module *m)
{
	const char *base = strrchr(m->path, '/');
	struct ht_elf *e = modules__elf(m);
	const char *so = e ? ht_elf__soname(e) : NULL;

	base = base ? base + 1 : m->path;
	return !strncmp(base, "ld-linux", 8) || (so && !strncmp(so, "ld-linux", 8));
}

int ldso__debug_hook(struct ht_modules *ms, size_t *module, uint64_t *offset)
{
	size_t n = modules__count(ms);
	size_t order[1];
	int err = -ENOENT;

	/* the interpreter, else a static program's own */
	for (size_t pass = 0; pass < 2 && err; pass++) {
		for (size_t mi = 0; mi < n && err; mi++) {
			struct ht_module *m = modules__get(ms, mi);
			const struct ht_elf_sym *sym;
			struct ht_elf_symidx ix;
			struct ht_elf *e;

			if (!m->has_exec || m->fd < 0 || !(e = modules__elf(m)))
				continue;
			if (pass == 0 ? !is_ldso(m)
				      : ht_elf__has_interp(e) || ldso__scope(ms, order, 1) != 1 ||
						order[0] != mi)
				continue;
			if (ht_elf__index_symbols(e, &ix))
				return -ENOMEM;
			sym = ht_elf_symidx__find(&ix, "_dl_debug_state");
			if (sym && sym->func && !ht_elf__vaddr_to_offset(e, sym->vaddr, offset)) {
				*module = mi;
				err = 0;
			}
			ht_elf_symidx__free(&ix);
		}
	}
	return err;
}
