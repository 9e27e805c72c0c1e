#ifndef CORRAL_CODECS_COMMON_H
#define CORRAL_CODECS_COMMON_H
#include "CImageCodecs.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static inline int corral_fail(corral_status *st, int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    st->code = code;
    vsnprintf(st->message, sizeof st->message, fmt, ap);
    va_end(ap);
    return code;
}

static inline int corral_ok(corral_status *st) {
    st->code = CORRAL_OK;
    st->message[0] = 0;
    return CORRAL_OK;
}

// Premultiplying by alpha over a white background, exact to rounding: c*a/255 + (255-a).
static inline uint8_t corral_over_white(unsigned c, unsigned a) {
    unsigned t = c * a + 255u * (255u - a) + 128u;
    return (uint8_t)((t + (t >> 8)) >> 8);
}

static inline void corral_rgba_row_over_white(const uint8_t *src, uint8_t *dst, size_t width) {
    for (size_t x = 0; x < width; x++) {
        unsigned a = src[4 * x + 3];
        dst[3 * x + 0] = corral_over_white(src[4 * x + 0], a);
        dst[3 * x + 1] = corral_over_white(src[4 * x + 1], a);
        dst[3 * x + 2] = corral_over_white(src[4 * x + 2], a);
    }
}
#endif
