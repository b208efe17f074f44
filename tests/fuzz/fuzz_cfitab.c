// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: cfitab__new_mem(), the unwind-table builder, on an
 * ELF image (its .eh_frame or .debug_frame is what the builder reads).
 * Whatever the input, the result is an error or a table whose rows are
 * strictly sorted, each of a known kind, that cfitab__find() answers for.
 */
#include <stdint.h>
#include <stdlib.h>
#include "cfitab.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ht_cfitab *t = cfitab__new_mem(data, size);
	const struct ht_cfi_row *r;
	size_t n;

	if (!t)
		return 0;
	r = cfitab__rows(t, &n);
	for (size_t i = 0; i < n; i++) {
		if (HT_CFI_KIND(&r[i]) > HT_CFI_BAD || HT_CFI_RBP_RULE(&r[i]) > HT_RBP_LOST)
			abort();
		if (i && r[i].pc <= r[i - 1].pc)
			abort();
		if (cfitab__find(t, r[i].pc) != &r[i])
			abort();
	}
	cfitab__free(t);
	return 0;
}
