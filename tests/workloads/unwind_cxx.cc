// SPDX-License-Identifier: MIT
/*
 * unwind_cxx: C++ allocations through Debian's libstdc++ (whose operator
 * new has no frame pointer) from code built at -O2 without frame pointers
 * (see tests/unwind.mk), for tests/unwind_it.c.
 *
 * Profile, per stack (innermost first; names as heaptrace demangles them):
 *
 *  operator new(unsigned long) <- app::Factory::make() <- app::run() <- main
 *      100 x new Widget (32 bytes), kept.
 *  operator new(unsigned long) <- std::vector<int>::_M_realloc_insert
 *      <- app::collect(int) <- app::run() <- main
 *      app::collect(1000) push_backs 1000 ints into a vector that is never
 *      destroyed: it grows to capacity 1, 2, 4, ..., 1024, so 11 blocks
 *      of 4, 8, ..., 4096 bytes (8188 bytes); each growth frees the
 *      previous block (operator delete), so 10 frees of 4092 bytes, and
 *      the 4096-byte block stays live.
 *
 * Nothing else allocates after main starts (no iostreams).
 */
#include <cstddef>
#include <cstdlib>
#include <new>
#include <vector>

#define SITE __attribute__((noipa))

namespace app {

struct Widget {
	long id;
	char name[24];
};
static_assert(sizeof(Widget) == 32, "Widget is 32 bytes");

Widget *kept[100];

class Factory {
public:
	SITE void make();
	long made() const { return count_; }

private:
	long count_ = 0;
};

/* Calls new 100 times; each Widget is kept. */
SITE void Factory::make()
{
	for (int i = 0; i < 100; i++) {
		Widget *w = new Widget();

		w->id = ++count_;
		w->name[0] = 'w';
		kept[i] = w;
	}
}

/* Storage for a vector that is never destroyed (no free at exit). */
alignas(std::vector<int>) static unsigned char vec_storage[sizeof(std::vector<int>)];
static std::vector<int> *vec;

/* The function that calls push_back. */
SITE long collect(int n)
{
	vec = new (vec_storage) std::vector<int>();
	for (int i = 0; i < n; i++)
		vec->push_back(i);
	return (long)vec->size();
}

static volatile long result;

SITE int run()
{
	Factory f;

	f.make();
	result = collect(1000);
	/* Work after the last call: no tail call, run() stays on the stack. */
	return f.made() == 100 && result == 1000 && vec->capacity() == 1024 ? 0 : 1;
}

} // namespace app

int main()
{
	int rc = app::run();

	app::result = rc;
	return rc;
}
