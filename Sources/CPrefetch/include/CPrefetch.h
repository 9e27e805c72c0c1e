#ifndef CORRAL_CPREFETCH_H
#define CORRAL_CPREFETCH_H

/* Software prefetch hints (and one vector store) for the kernels in Tensors. Swift has no prefetch intrinsic; these static
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

/* Eight floats: Swift imports this clang vector type as SIMD8<Float>. */
typedef float corral_float8 __attribute__((ext_vector_type(8)));

/* An unaligned 32-byte store of eight floats (one vmovups on AVX). Why in C: Swift has no unaligned
 * vector store that is sure to inline; `storeBytes` and a constant-size `copyMemory` both stayed
 * out-of-line library calls (12 per tile) in large kernels once the optimiser's inlining budget ran
 * out. This always-inline function is compiled into the calling Swift module like the hints above. */
static inline __attribute__((always_inline)) void corral_store8(float *p, corral_float8 v) {
    __builtin_memcpy(p, &v, sizeof v);
}

#endif
