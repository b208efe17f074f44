// SPDX-License-Identifier: MIT
/*
 * unwind_cfi: stacks for the in-kernel unwinder (--unwind cfi), built
 * WITHOUT frame pointers (-O2 -fomit-frame-pointer, see tests/unwind.mk).
 * Every function on a site's path is its own noipa function, called from
 * one place, with work after its call (no tail calls).
 *
 * Modes (`unwind_cfi MODE`), stacks innermost first:
 *
 *  recurse   10 x malloc(40), freed, at the bottom of a 2,000-deep
 *            recursion: recurse x 2000 <- run_recurse <- main.
 *  signal    10 x raise(SIGUSR1) from sig_2 <- sig_1 <- run_signal <-
 *            main; the handler on_signal mallocs 72 bytes (freed later):
 *            on_signal <- the signal frame <- raise's frames <- sig_2 ...
 *  codedata  100 x malloc(56), freed: cd_leaf <- cd_mid <- run_codedata
 *            <- main, where cd_mid's 1 KiB buffer is filled with
 *            addresses inside this program's code (what a stack scanner
 *            or a broken frame-pointer walk would take for return
 *            addresses).
 *  storm     5,000 x malloc(24) + free through storm_leaf <- storm_3 <-
 *            storm_2 <- storm_1 <- run_storm <- main, as fast as the
 *            probes allow.
 *  dlopen    dlopen()s unwind_lib (next to this program), waits 1.5 s
 *            (heaptrace looks for new objects once a second), then
 *            100 x malloc(88), freed: lib_alloc_inner <- lib_alloc_outer
 *            <- run_dlopen <- main.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SITE __attribute__((noipa))

static void die(const char *what)
{
	fprintf(stderr, "unwind_cfi: %s\n", what);
	exit(1);
}

SITE void touch(volatile char *buf, size_t len);
SITE void touch(volatile char *buf, size_t len)
{
	buf[0] ^= buf[len - 1];
}

SITE void *recurse(int n);
SITE void *recurse(int n)
{
	volatile char pad[16];
	void *p;

	pad[0] = (char)n;
	p = n ? recurse(n - 1) : malloc(40);
	touch(pad, sizeof(pad));
	return p;
}

SITE void run_recurse(void);
SITE void run_recurse(void)
{
	for (int i = 0; i < 10; i++)
		free(recurse(2000));
}

static void *sig_blocks[10];
static volatile int nsig;

SITE void on_signal(int sig);
SITE void on_signal(int sig)
{
	volatile char pad[32];

	pad[0] = (char)sig;
	if (nsig < 10)
		sig_blocks[nsig++] = malloc(72);
	touch(pad, sizeof(pad));
}

SITE void sig_2(void);
SITE void sig_2(void)
{
	volatile char pad[48];

	pad[0] = 2;
	raise(SIGUSR1);
	touch(pad, sizeof(pad));
}

SITE void sig_1(void);
SITE void sig_1(void)
{
	volatile char pad[64];

	pad[0] = 1;
	sig_2();
	touch(pad, sizeof(pad));
}

SITE void run_signal(void);
SITE void run_signal(void)
{
	struct sigaction sa;
	sigset_t set;

	/* whatever the launcher left blocked or ignored */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	if (sigaction(SIGUSR1, &sa, NULL) || sigprocmask(SIG_UNBLOCK, &set, NULL))
		die("sigaction");
	for (int i = 0; i < 10; i++)
		sig_1();
	for (int i = 0; i < nsig; i++)
		free(sig_blocks[i]);
}

SITE void *cd_leaf(size_t n);
SITE void *cd_leaf(size_t n)
{
	volatile char pad[16];
	void *p;

	pad[0] = (char)n;
	p = malloc(n);
	touch(pad, sizeof(pad));
	return p;
}

SITE void *cd_mid(void);
SITE void *cd_mid(void)
{
	volatile uintptr_t fake[128];
	void *p;

	/* code addresses: just past calls in main and in this function */
	for (size_t i = 0; i < 128; i++)
		fake[i] = (uintptr_t)(i & 1 ? (void *)cd_mid : (void *)recurse) + 9 + i % 7;
	p = cd_leaf(56);
	touch((volatile char *)fake, sizeof(fake));
	return p;
}

SITE void run_codedata(void);
SITE void run_codedata(void)
{
	for (int i = 0; i < 100; i++)
		free(cd_mid());
}

SITE void *storm_leaf(void);
SITE void *storm_leaf(void)
{
	volatile char pad[16];
	void *p;

	pad[0] = 1;
	p = malloc(24);
	touch(pad, sizeof(pad));
	return p;
}

#define STORM_LEVEL(name, next)          \
	SITE void *name(void);           \
	SITE void *name(void)            \
	{                                \
		volatile char pad[24];   \
		void *p;                 \
		pad[0] = 1;              \
		p = next();              \
		touch(pad, sizeof(pad)); \
		return p;                \
	}
STORM_LEVEL(storm_3, storm_leaf)
STORM_LEVEL(storm_2, storm_3)
STORM_LEVEL(storm_1, storm_2)

SITE void run_storm(void);
SITE void run_storm(void)
{
	for (int i = 0; i < 5000; i++)
		free(storm_1());
}

SITE void run_dlopen(void);
SITE void run_dlopen(void)
{
	struct timespec ts = { 1, 500000000 };
	char path[PATH_MAX];
	void *(*outer)(size_t);
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 32);
	char *slash;
	void *h;

	if (n <= 0)
		die("readlink");
	path[n] = '\0';
	slash = strrchr(path, '/');
	strcpy(slash + 1, "unwind_lib");
	h = dlopen(path, RTLD_NOW);
	if (!h)
		die(dlerror());
	outer = (void *(*)(size_t))dlsym(h, "lib_alloc_outer");
	if (!outer)
		die("no lib_alloc_outer");
	nanosleep(&ts, NULL);
	for (int i = 0; i < 100; i++)
		free(outer(88));
}

static volatile char done[8];

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		void (*run)(void);
	} modes[] = {
		{ "recurse", run_recurse },
		{ "signal", run_signal },
		{ "codedata", run_codedata },
		{ "storm", run_storm },
		{ "dlopen", run_dlopen },
	};

	if (argc != 2)
		die("usage: unwind_cfi recurse|signal|codedata|storm|dlopen");
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (strcmp(argv[1], modes[i].name) == 0) {
			modes[i].run();
			touch(done, sizeof(done)); /* main stays on every stack */
			return 0;
		}
	}
	die("unknown mode");
	return 2;
}
