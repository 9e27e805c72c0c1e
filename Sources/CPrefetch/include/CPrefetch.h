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

/* Two consecutive floats repeated four times (a 64-bit broadcast from memory, no shuffle), for the
 * grouped pair kernels. In C for the same reason as the store: Swift's `loadUnaligned(as: Double)`
 * stayed an out-of-line call in the larger (ReLU6) specialisations of those kernels. */
typedef double corral_double4 __attribute__((ext_vector_type(4)));
static inline __attribute__((always_inline)) corral_float8 corral_broadcast_pair(const float *p) {
    double d;
    __builtin_memcpy(&d, p, sizeof d);
    corral_double4 v = d;
    return (corral_float8)v;
}

/* Denormals flushed to zero (MXCSR FTZ | DAZ) for a kernel call: turns them on and returns the
 * previous MXCSR, or returns 0 when they were on already (nested calls) so the caller has nothing to
 * restore. Reading and writing MXCSR alone takes a few cycles; fegetenv/fesetenv, which also save
 * and load the x87 environment, took 1% of a Lite0 image at one call per GEMM row band. */
static inline __attribute__((always_inline)) unsigned corral_flush_denormals_begin(void) {
#if defined(__x86_64__)
    unsigned old = __builtin_ia32_stmxcsr();
    if ((old & 0x8040u) == 0x8040u) return 0;
    __builtin_ia32_ldmxcsr(old | 0x8040u);
    return old;
#else
    return 0;
#endif
}

static inline __attribute__((always_inline)) void corral_flush_denormals_end(unsigned old) {
#if defined(__x86_64__)
    if (old != 0) __builtin_ia32_ldmxcsr(old);
#else
    (void)old;
#endif
}

#endif
