// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "cli_dest.h"

#define MAX_LINK_HOPS 40

/* The user heaptrace acts for: under sudo the one who ran it. */
static uid_t invoking_uid(void)
{
	const char *uid = getenv("SUDO_UID");

	if (uid && *uid && geteuid() == 0)
		return (uid_t)strtoul(uid, NULL, 10);
	return getuid();
}

/* Give fd to the invoking user when running as root under sudo. */
static void give_to_invoking_user(int fd)
{
	const char *uid = getenv("SUDO_UID"), *gid = getenv("SUDO_GID");

	/* Best effort: if it fails, the file is still written (root's). */
	if (uid && gid && geteuid() == 0 &&
	    fchown(fd, (uid_t)strtoul(uid, NULL, 10), (gid_t)strtoul(gid, NULL, 10)) < 0)
		return;
}

const char *dest__strerror(int err)
{
	switch (err) {
	case -EPIPE:
		return "broken pipe (its reader has gone)";
	case -EBADF:
		return "the descriptor is not open";
	case -ENXIO:
		return "no process is reading the FIFO";
	default:
		return strerror(-err);
	}
}

static int fail(char *msg, size_t len, int err, const char *fmt, const char *a, const char *b)
{
	char what[PATH_MAX + 128];

	snprintf(what, sizeof(what), fmt, a, b);
	snprintf(msg, len, "%s", what);
	return err;
}

/* The directory part of path ("." when there is none). */
static void dir_of(const char *path, char *dir, size_t len)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(dir, len, ".");
	else if (slash == path)
		snprintf(dir, len, "/");
	else
		snprintf(dir, len, "%.*s", (int)(slash - path), path);
}

/* /dev/stdout, /dev/stderr, /dev/fd/N, /proc/self/fd/N, /proc/PID/fd/N
 * (our PID): the descriptor, or -1. */
static int fd_of_path(const char *path)
{
	static const char *const fd_dirs[] = { "/dev/fd/", "/proc/self/fd/",
					       "/proc/thread-self/fd/" };
	char own[64];
	const char *num = NULL;
	char *end;
	long v;

	if (!strcmp(path, "/dev/stdout"))
		return 1;
	if (!strcmp(path, "/dev/stderr"))
		return 2;
	for (size_t i = 0; i < sizeof(fd_dirs) / sizeof(fd_dirs[0]) && !num; i++)
		if (!strncmp(path, fd_dirs[i], strlen(fd_dirs[i])))
			num = path + strlen(fd_dirs[i]);
	snprintf(own, sizeof(own), "/proc/%d/fd/", (int)getpid());
	if (!num && !strncmp(path, own, strlen(own)))
		num = path + strlen(own);
	if (!num || *num < '0' || *num > '9')
		return -1;
	errno = 0;
	v = strtol(num, &end, 10);
	if (errno || *end || v > INT_MAX)
		return -1;
	return (int)v;
}

/* Would the kernel's protected_symlinks rule let the invoking user
 * follow the link at path (lstat st)? */
static bool trusted_link(const char *path, const struct stat *st)
{
	char dir[PATH_MAX];
	struct stat ds;

	dir_of(path, dir, sizeof(dir));
	if (stat(dir, &ds))
		return false;
	if (!(ds.st_mode & S_ISVTX) || !(ds.st_mode & S_IWOTH))
		return true;
	return st->st_uid == ds.st_uid || st->st_uid == invoking_uid();
}

static int resolve_fd(int fd, struct dest *d, char *msg, size_t len)
{
	char num[16];
	int fl = fcntl(fd, F_GETFL);

	snprintf(num, sizeof(num), "%d", fd);
	if (fl < 0)
		return fail(msg, len, -EBADF, "can't write '%s': descriptor %s is not open",
			    d->shown, num);
	if ((fl & O_ACCMODE) == O_RDONLY)
		return fail(msg, len, -EBADF,
			    "can't write '%s': descriptor %s is not open for writing", d->shown,
			    num);
	d->kind = DEST_FD;
	d->fd = fd;
	return 0;
}

int dest__resolve(const char *path, unsigned int flags, struct dest *d, char *msg, size_t len)
{
	char cur[PATH_MAX], dir[PATH_MAX], target[PATH_MAX];
	struct stat st;
	ssize_t n;

	memset(d, 0, sizeof(*d));
	d->shown = path;
	d->fd = -1;
	if (!*path)
		return fail(msg, len, -EINVAL, "empty output path%s%s", "", "");
	if (strlen(path) >= sizeof(cur))
		return fail(msg, len, -ENAMETOOLONG, "can't write '%s': %s", path,
			    strerror(ENAMETOOLONG));
	snprintf(cur, sizeof(cur), "%s", path);
	for (int hops = 0;; hops++) {
		int fd = fd_of_path(cur);

		if (fd >= 0)
			return resolve_fd(fd, d, msg, len);
		if (lstat(cur, &st)) {
			if (errno != ENOENT)
				return fail(msg, len, -errno, "can't write '%s': %s", path,
					    strerror(errno));
			/* A new file: its directory must exist already. */
			dir_of(cur, dir, sizeof(dir));
			if (stat(dir, &st) || !S_ISDIR(st.st_mode))
				return fail(msg, len, -ENOENT,
					    "can't write '%s': no directory '%s' (heaptrace creates "
					    "none)", path, dir);
			break;
		}
		if (S_ISLNK(st.st_mode)) {
			/* Not followed: the link itself is replaced. */
			if (!(flags & DEST_FOLLOW) || !trusted_link(cur, &st))
				break;
			if (hops >= MAX_LINK_HOPS)
				return fail(msg, len, -ELOOP, "can't write '%s': %s", path,
					    strerror(ELOOP));
			n = readlink(cur, target, sizeof(target) - 1);
			if (n < 0)
				return fail(msg, len, -errno, "can't write '%s': %s", path,
					    strerror(errno));
			target[n] = '\0';
			if (target[0] == '/') {
				snprintf(cur, sizeof(cur), "%s", target);
			} else {
				dir_of(cur, dir, sizeof(dir));
				if ((size_t)snprintf(cur, sizeof(cur), "%s/%s", dir, target) >=
				    sizeof(cur))
					return fail(msg, len, -ENAMETOOLONG, "can't write '%s': %s",
						    path, strerror(ENAMETOOLONG));
			}
			continue;
		}
		if (S_ISREG(st.st_mode))
			break;
		if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode)) {
			d->kind = DEST_INPLACE;
		} else if (S_ISSOCK(st.st_mode)) {
			d->kind = DEST_SOCKET;
		} else if (S_ISDIR(st.st_mode)) {
			return fail(msg, len, -EISDIR, "can't write '%s': it is a directory", path,
				    "");
		} else {
			return fail(msg, len, -EINVAL,
				    "can't write '%s': it is a block device (heaptrace writes none)",
				    path, "");
		}
		snprintf(d->path, sizeof(d->path), "%s", cur);
		return 0;
	}
	d->kind = DEST_FILE;
	snprintf(d->path, sizeof(d->path), "%s", cur);
	return 0;
}

/* A temporary file beside path, for the rename: its descriptor (name in
 * tmp), or -errno. */
static int make_temp(const char *path, char *tmp, size_t len)
{
	char dir[PATH_MAX];
	int fd;

	dir_of(path, dir, sizeof(dir));
	if ((size_t)snprintf(tmp, len, "%s/.heaptrace-XXXXXX", dir) >= len)
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int dest__check(const struct dest *d, char *msg, size_t len)
{
	char tmp[PATH_MAX];
	int fd;

	switch (d->kind) {
	case DEST_FD:
		return 0;
	case DEST_INPLACE:
	case DEST_SOCKET:
		if (access(d->path, W_OK))
			return fail(msg, len, -errno, "can't write '%s': %s", d->shown,
				    strerror(errno));
		return 0;
	case DEST_FILE:
		break;
	}
	fd = make_temp(d->path, tmp, sizeof(tmp));
	if (fd < 0)
		return fail(msg, len, fd, "can't write '%s': %s", d->shown, strerror(-fd));
	close(fd);
	unlink(tmp);
	return 0;
}

int dest__write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int connect_socket(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* Open a device or FIFO in place: never blocks on a FIFO without reader. */
static int open_inplace(const char *path)
{
	struct stat st;
	int fd, fl;

	fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !(S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode))) {
		close(fd);
		return -ESTALE;
	}
	fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	return fd;
}

/* Descriptor for a device, FIFO, socket or inherited descriptor. */
static int open_direct(const struct dest *d)
{
	int fd;

	switch (d->kind) {
	case DEST_INPLACE:
		return open_inplace(d->path);
	case DEST_SOCKET:
		return connect_socket(d->path);
	case DEST_FD:
		fd = fcntl(d->fd, F_DUPFD_CLOEXEC, 3);
		return fd < 0 ? -errno : fd;
	default:
		return -EINVAL;
	}
}

static int write_replacing(const struct dest *d, const void *buf, size_t n)
{
	char tmp[PATH_MAX];
	struct stat old;
	bool had_old = !lstat(d->path, &old) && S_ISREG(old.st_mode);
	int fd, err;

	fd = make_temp(d->path, tmp, sizeof(tmp));
	if (fd < 0)
		return fd;
	/* A file replaced keeps its owner and mode; a new one is the user's. */
	if (had_old) {
		if (fchown(fd, old.st_uid, old.st_gid) < 0 && geteuid() == 0)
			give_to_invoking_user(fd);
		fchmod(fd, old.st_mode & 0666);
	} else {
		give_to_invoking_user(fd);
		fchmod(fd, 0644);
	}
	err = dest__write_all(fd, buf, n);
	if (!err && fsync(fd) && errno != EINVAL)
		err = -errno;
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, d->path))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

int dest__write(const struct dest *d, const void *buf, size_t n, char *msg, size_t len)
{
	int fd, err;

	if (d->kind == DEST_FILE) {
		err = write_replacing(d, buf, n);
	} else {
		fd = open_direct(d);
		if (fd < 0) {
			err = fd;
		} else {
			err = dest__write_all(fd, buf, n);
			if (close(fd) && !err && errno != EINTR)
				err = -errno;
		}
	}
	if (err == -ESTALE)
		return fail(msg, len, err, "can't write '%s': it is no longer a device or FIFO",
			    d->shown, "");
	if (err)
		return fail(msg, len, err, "can't write '%s': %s", d->shown, dest__strerror(err));
	return 0;
}

int dest__open_stream(const struct dest *d, char *msg, size_t len)
{
	int fd;

	if (d->kind == DEST_FILE) {
		fd = open(d->path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0)
			give_to_invoking_user(fd);
		else
			fd = -errno;
	} else {
		fd = open_direct(d);
	}
	if (fd == -ESTALE)
		return fail(msg, len, fd, "can't write '%s': it is no longer a device or FIFO",
			    d->shown, "");
	if (fd < 0)
		return fail(msg, len, fd, "can't write '%s': %s", d->shown, dest__strerror(fd));
	return fd;
}
