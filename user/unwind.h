/* SPDX-License-Identifier: MIT */
/*
 * Stack unwinding of allocation events. The BPF side walks frame pointers
 * and, on request, ships a window of raw stack; this module repairs the
 * frames that frame pointers miss - code built without them, such as
 * Debian's glibc and libstdc++ (strdup, operator new) - by following each
 * frame's DWARF call frame information (.eh_frame, read through libdw)
 * over that window, and splices the frame-pointer chain back in as soon as
 * it is valid again.
 */
#ifndef HEAPTRACE_UNWIND_H
#define HEAPTRACE_UNWIND_H

#include <stdint.h>
#include "events.h"
#include "heaptrace.h"

struct ht_modules;
struct ht_unwinder;

struct ht_unwinder *unwinder__new(struct ht_modules *ms, enum ht_unwind_mode mode);
void unwinder__free(struct ht_unwinder *u);

/*
 * Unwind event e into out[0..max); returns the number of frames (at least
 * the frame-pointer walk's). Uses the module table to find each frame's
 * CFI; addresses in no known module end the CFI walk.
 */
uint32_t unwinder__unwind(struct ht_unwinder *u, const struct ht_alloc_event *e,
			  uint64_t *out, uint32_t max);

#endif
