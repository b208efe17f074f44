// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli_dest.h"
#include "cli_output.h"

struct format_desc {
	const char *name;
	enum ht_format fmt;
	const char *ext;        /* file name extension */
	bool per_metric;        /* one file per metric */
};

static const struct format_desc formats[] = {
	{ "text", HT_FORMAT_TEXT, "txt", false },
	{ "json", HT_FORMAT_JSON, "json", false },
	{ "folded", HT_FORMAT_FOLDED, "folded", true },
	{ "svg", HT_FORMAT_SVG, "svg", true },
	{ "pprof", HT_FORMAT_PPROF, "pb.gz", false },
	{ "dhat", HT_FORMAT_DHAT, "dhat.json", false },
	{ "html", HT_FORMAT_HTML, "html", false },
};

static const char *const metric_names[] = {
	[HT_M_LIVE_BYTES] = "live_bytes",
	[HT_M_PEAK_BYTES] = "peak_bytes",
	[HT_M_ALLOC_BYTES] = "alloc_bytes",
	[HT_M_ALLOCS] = "allocs",
};

int output__parse_formats(const char *list, unsigned int *mask, const char **bad,
			  int *badlen)
{
	const char *p = list;

	*mask = 0;
	while (*p) {
		size_t len = strcspn(p, ","), i;

		for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
			if (strlen(formats[i].name) == len && !strncmp(p, formats[i].name, len))
				break;
		if (i == sizeof(formats) / sizeof(formats[0])) {
			*bad = p;
			*badlen = (int)len;
			return -EINVAL;
		}
		*mask |= 1u << formats[i].fmt;
		p += len;
		if (*p == ',')
			p++;
	}
	if (!*mask) {
		*bad = list;
		*badlen = 0;
		return -EINVAL;
	}
	return 0;
}

/* Under sudo, files belong to the user who ran it. */
void output__give_to_sudo_user(int fd)
{
	const char *uid = getenv("SUDO_UID"), *gid = getenv("SUDO_GID");

	/* Best effort: if it fails, the file is still written (root's). */
	if (uid && gid && geteuid() == 0 &&
	    fchown(fd, (uid_t)strtoul(uid, NULL, 10), (gid_t)strtoul(gid, NULL, 10)) < 0)
		return;
}

/* A directory we have just created: under sudo, the user's too. */
static void give_dir_to_sudo_user(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd >= 0) {
		output__give_to_sudo_user(fd);
		close(fd);
	}
}

int output__prepare_dir(const char *dir, char *msg, size_t len)
{
	char tmp[PATH_MAX];
	struct stat st;
	int fd;

	if (!*dir || strlen(dir) + sizeof("/.heaptrace-XXXXXX") > sizeof(tmp)) {
		snprintf(msg, len, "invalid output directory '%s'", dir);
		return -EINVAL;
	}
	/* Created with its parents, each given to the invoking user. */
	snprintf(tmp, sizeof(tmp), "%s", dir);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) == 0)
			give_dir_to_sudo_user(tmp);
		else if (errno != EEXIST)
			goto fail;
		*p = '/';
	}
	if (mkdir(dir, 0755) == 0)
		give_dir_to_sudo_user(dir);
	else if (errno != EEXIST)
		goto fail;
	if (stat(dir, &st))
		goto fail;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		goto fail;
	}
	/* Can files be created there? (access() says yes to root even on a
	 * read-only file system.) */
	snprintf(tmp, sizeof(tmp), "%s/.heaptrace-XXXXXX", dir);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		goto fail;
	close(fd);
	unlink(tmp);
	return 0;
fail:
	snprintf(msg, len, "can't write to '%s': %s", dir, strerror(errno));
	return -errno;
}

int output__render(struct ht_session *s, enum ht_format fmt, const struct ht_report_opts *opts,
		   char **buf, size_t *n)
{
	FILE *f;
	int err;

	*buf = NULL;
	*n = 0;
	f = open_memstream(buf, n);
	if (!f)
		return -errno;
	err = ht_session_write_report(s, fmt, f, opts);
	if (fclose(f) && !err)
		err = -ENOMEM;
	if (err) {
		free(*buf);
		*buf = NULL;
		*n = 0;
	}
	return err;
}

int output__write_file(const char *path, unsigned int dest_flags, struct ht_session *s,
		       enum ht_format fmt, const struct ht_report_opts *opts)
{
	char msg[PATH_MAX + 256], *buf;
	struct dest d;
	size_t n;
	int err;

	/* Resolved again for every write: what the path names may change. */
	err = dest__resolve(path, dest_flags, &d, msg, sizeof(msg));
	if (err)
		goto fail;
	err = output__render(s, fmt, opts, &buf, &n);
	if (err) {
		snprintf(msg, sizeof(msg), "can't write '%s': %s", path, strerror(-err));
		goto fail;
	}
	err = dest__write(&d, buf, n, msg, sizeof(msg));
	free(buf);
	if (err)
		goto fail;
	return 0;
fail:
	fprintf(stderr, "heaptrace: %s\n", msg);
	return err;
}

static void remove_snapshot(const struct output *o, unsigned int seq)
{
	char path[PATH_MAX];

	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		for (int m = 0; m < (formats[i].per_metric ? __HT_M_MAX : 1); m++) {
			if (formats[i].per_metric)
				snprintf(path, sizeof(path), "%s/heaptrace-%d-%06u.%s.%s", o->dir,
					 o->pid, seq, metric_names[m], formats[i].ext);
			else
				snprintf(path, sizeof(path), "%s/heaptrace-%d-%06u.%s", o->dir, o->pid,
					 seq, formats[i].ext);
			unlink(path);
		}
	}
}

int output__snapshot(struct output *o, struct ht_session *s, bool final)
{
	struct ht_report_opts ro = { .sz = sizeof(ro) };
	char path[PATH_MAX], tag[32];
	int first = 0, err;

	if (o->report)
		ro = *o->report;
	/* JSON: the churn since the previous snapshot (since the start
	 * before the first). */
	ro.interval = true;

	if (final)
		snprintf(tag, sizeof(tag), "final");
	else
		snprintf(tag, sizeof(tag), "%06u", ++o->seq);
	o->written = 0;
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		if (!(o->formats & (1u << formats[i].fmt)))
			continue;
		for (int m = 0; m < (formats[i].per_metric ? __HT_M_MAX : 1); m++) {
			if (formats[i].per_metric)
				snprintf(path, sizeof(path), "%s/heaptrace-%d-%s.%s.%s", o->dir, o->pid,
					 tag, metric_names[m], formats[i].ext);
			else
				snprintf(path, sizeof(path), "%s/heaptrace-%d-%s.%s", o->dir, o->pid,
					 tag, formats[i].ext);
			ro.metric = (enum ht_metric)m;
			err = output__write_file(path, 0, s, formats[i].fmt, &ro);
			if (!err)
				o->written++;
			if (err) {
				o->errors++;
				if (!first)
					first = err;
			}
		}
	}
	if (!final && o->keep && o->seq > o->keep)
		remove_snapshot(o, o->seq - o->keep);
	if (!final)
		ht_session_mark_interval(s);
	return first;
}
