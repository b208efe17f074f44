/* SPDX-License-Identifier: MIT */
/*
 * The target's mapped objects (executable, shared libraries), kept open
 * so that they can be read after the target exits or replaces them.
 * Addresses are looked up by range; the table only grows (a dlclose'd
 * object keeps its entry: stacks recorded earlier still point into it).
 */
#ifndef HEAPTRACE_MODULES_H
#define HEAPTRACE_MODULES_H

#include <stdbool.h>
#include <stdint.h>

struct ht_elf;

/*
 * What the rooms above keep per module, beside the module itself: made on
 * first use by the room that needs it, freed with the table (or when its
 * mappings are forgotten) through the destructor given with it. A room
 * that keeps something per module adds its slot here.
 */
enum ht_module_slot {
	HT_MOD_SYMBOLS,      /* symbolize.c: the libdwfl view and its indexes */
	__HT_MOD_SLOTS,
};

struct ht_module_ext {
	void *data;
	void (*free)(void *data);  /* set once the slot is made */
};

struct ht_module {
	char *path;          /* as the target sees it (from /proc/PID/maps) */
	uint64_t dev, inode;
	int fd;              /* open file, or -1 when it could not be opened */
	bool deleted;        /* the mapped file was deleted or replaced */
	uint64_t bias;       /* runtime address = ELF vaddr + bias */
	bool bias_known;
	bool has_exec;       /* has an executable mapping */
	struct ht_elf *elf;  /* opened on demand by modules__elf() */
	struct ht_module_ext ext[__HT_MOD_SLOTS];
};

struct ht_modules;

struct ht_modules *modules__new(int pid);
void modules__free(struct ht_modules *ms);

/* Re-read /proc/PID/maps and add what is new; 0 or -errno. */
int modules__refresh(struct ht_modules *ms);

/*
 * Forget every address range and load bias, and the rooms' slots (the
 * modules stay, with their indexes and open files): what was mapped is not the process's any more - a launched
 * command's exec replaced the mappings of the child it was forked as. The
 * next refresh reads them again.
 */
void modules__forget_mappings(struct ht_modules *ms);

/* The module mapping addr, or NULL. */
struct ht_module *modules__find(struct ht_modules *ms, uint64_t addr);

size_t modules__count(const struct ht_modules *ms);
struct ht_module *modules__get(struct ht_modules *ms, size_t i);

/* The process whose mappings these are. */
int modules__pid(const struct ht_modules *ms);

/* The file offset that addr maps (through the mapping covering it, as
 * last seen in /proc/PID/maps); 0 or -ENOENT. */
int modules__file_offset(struct ht_modules *ms, uint64_t addr, uint64_t *off);

/*
 * Add an object the process has not mapped yet but will (a launched
 * command's executable and libraries), opened by path: it has no
 * address ranges until a refresh sees it mapped. *index is its entry
 * (an existing one for the same file). 0 or -errno.
 */
int modules__add_file(struct ht_modules *ms, const char *path, size_t *index);

/* The module's ELF, opened once; NULL + errno when unreadable. */
struct ht_elf *modules__elf(struct ht_module *m);

/* A path through which the kernel can resolve the module's file for a
 * uprobe (written into buf); 0 or -errno. */
int modules__probe_path(struct ht_modules *ms, const struct ht_module *m, char *buf,
			size_t len);

#endif
