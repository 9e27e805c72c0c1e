#ifndef CORRAL_CPREFETCH_H
#define CORRAL_CPREFETCH_H

/* Software prefetch hints for the kernels in Tensors. Swift has no prefetch intrinsic; these static
 * inline functions are compiled into the calling Swift module, so each becomes one prefetch
 * instruction in the loop that calls it. Without a CPU that knows the instruction they are no-ops. */

/* Into all cache levels, for reading soon (weights streamed from memory). */
static inline __attribute__((always_inline)) void corral_prefetch_read(const void *p) {
    __builtin_prefetch(p, 0, 3);
}

/* Into L2 (and L3), not L1: data needed after the current working set of L1 is done with. */
static inline __attribute__((always_inline)) void corral_prefetch_l2(const void *p) {
    __builtin_prefetch(p, 0, 2);
}

/* Into all cache levels, for writing soon (output lines the epilogue will store). */
static inline __attribute__((always_inline)) void corral_prefetch_write(const void *p) {
    __builtin_prefetch(p, 1, 3);
}

#endif
