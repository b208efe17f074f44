// SPDX-License-Identifier: MIT
/*
 * cpp_alloc: C++ allocation sites for the symbolizer's integration test
 * (tests/symbolize_it.c), built -g at -O0 and at -O2 (so that
 * std::vector/std::string/std::map internals inline into the functions
 * below), frame pointers kept and no sibling calls, so that every site
 * keeps its frame (see tests/symbolize.mk).
 *
 * Lines tagged "// @NAME" are the allocating statements; the test finds
 * them by their tag. Sites (innermost first, names as heaptrace shows
 * them):
 *
 *  make_buffer(unsigned long)          [always_inline]  @make_buffer
 *    <- app::Cache::fill(int)                         @fill
 *    <- main                                          @main_fill
 *      100 x malloc(64 + i), i = 0..99: 11350 bytes, kept.
 *  operator new(unsigned long) <- operator new[](unsigned long)
 *    <- int* app::make_array<int>(unsigned long)      @make_array
 *    <- main                                          @main_array
 *      10 x new int[25]: 1000 bytes, kept.
 *  ... std::vector<long>::_M_realloc_insert ... <- app::grow_vector(int)
 *      @grow_vector: push_back 1000 longs, the vector is returned.
 *  ... std::__cxx11::basic_string ... <- app::join_paths(...) @join_paths:
 *      string temporaries, all freed at once.
 *  ... std::_Rb_tree<int, std::pair<int const, std::__cxx11::basic_string
 *      ...> ... <- app::Index::add(int, char const*) @index_add: 50 nodes.
 */
#include <cstddef>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#define NOINLINE __attribute__((noinline, noipa))

static inline __attribute__((always_inline)) char *make_buffer(std::size_t n)
{
	return static_cast<char *>(std::malloc(n)); // @make_buffer
}

namespace app {

template <typename T> NOINLINE T *make_array(std::size_t n)
{
	T *a = new T[n]; // @make_array

	a[0] = T();
	return a;
}

class Cache {
public:
	NOINLINE void fill(int n);
	std::size_t size() const { return count_; }

private:
	char *bufs_[128] = {};
	std::size_t count_ = 0;
};

void Cache::fill(int n)
{
	for (int i = 0; i < n && count_ < 128; i++) {
		char *b = make_buffer(64 + static_cast<std::size_t>(i)); // @fill

		b[0] = 'x';
		bufs_[count_++] = b;
	}
}

NOINLINE std::vector<long> grow_vector(int n)
{
	std::vector<long> v;

	for (int i = 0; i < n; i++)
		v.push_back(i); // @grow_vector
	return v;
}

NOINLINE std::size_t join_paths(const std::string &dir, int n)
{
	std::size_t total = 0;

	for (int i = 0; i < n; i++)
		total += (dir + "/component-" + std::to_string(i) + ".data").size(); // @join_paths
	return total;
}

class Index {
public:
	NOINLINE void add(int key, const char *name);
	std::size_t size() const { return map_.size(); }

private:
	std::map<int, std::string> map_;
};

void Index::add(int key, const char *name)
{
	map_[key] = name; // @index_add
}

} // namespace app

static app::Cache cache;
static int *arrays[10];

int main()
{
	static const std::string dir = "/var/lib/some/rather/long/directory/name";
	std::size_t total = 0;
	app::Index *index = new app::Index;
	std::vector<long> v;

	cache.fill(100); // @main_fill
	for (int i = 0; i < 10; i++)
		arrays[i] = app::make_array<int>(25); // @main_array
	v = app::grow_vector(1000);
	total += app::join_paths(dir, 20);
	for (int i = 0; i < 50; i++)
		index->add(i, "a value long enough to need the heap");
	total += index->size() + v.size() + cache.size();
	return total == 0;
}
