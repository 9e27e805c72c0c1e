/* Counts malloc and posix_memalign calls of a process (LD_PRELOAD shim) and prints the total on
 * exit, for bench/allocs.sh: "no allocation in the hot path" checked as mallocs per image. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

static atomic_long calls;
static void *(*next_malloc)(size_t);
static int (*next_memalign)(void **, size_t, size_t);

void *malloc(size_t size) {
    if (!next_malloc) next_malloc = dlsym(RTLD_NEXT, "malloc");
    atomic_fetch_add(&calls, 1);
    return next_malloc(size);
}

int posix_memalign(void **p, size_t alignment, size_t size) {
    if (!next_memalign) next_memalign = dlsym(RTLD_NEXT, "posix_memalign");
    atomic_fetch_add(&calls, 1);
    return next_memalign(p, alignment, size);
}

__attribute__((destructor)) static void report(void) {
    fprintf(stderr, "malloc calls: %ld\n", atomic_load(&calls));
}
