// PNG through libpng, reading from memory. Every colour type and bit depth is normalised to RGB8 or
// RGBA8 by libpng's transforms; alpha is then composited over white. Errors longjmp back here;
// warnings are dropped (libpng would print them otherwise).
#include "common.h"
#include <setjmp.h>
#include <stdlib.h>
#include <png.h>

typedef struct {
    const uint8_t *data;
    size_t size, pos;
    int truncated;
    char message[200];
} corral_png_io;

static void on_error(png_structp png, png_const_charp msg) {
    corral_png_io *io = (corral_png_io *)png_get_error_ptr(png);
    snprintf(io->message, sizeof io->message, "%s", msg ? msg : "PNG error");
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg) { (void)png; (void)msg; }

static void read_mem(png_structp png, png_bytep dst, size_t n) {
    corral_png_io *io = (corral_png_io *)png_get_io_ptr(png);
    if (io->size - io->pos < n) {
        io->truncated = 1;
        png_error(png, "file ends before the image does");
    }
    memcpy(dst, io->data + io->pos, n);
    io->pos += n;
}

static int classify(corral_png_io *io) {
    if (io->truncated) return CORRAL_TRUNCATED;
    if (strstr(io->message, "exceeds user limit") || strstr(io->message, "memory") ||
        strstr(io->message, "too large"))
        return CORRAL_TOO_LARGE;
    return CORRAL_CORRUPT;
}

static void fill_info(png_structp png, png_infop info, corral_image_info *out) {
    memset(out, 0, sizeof *out);
    out->width = (int)png_get_image_width(png, info);
    out->height = (int)png_get_image_height(png, info);
    out->components = png_get_channels(png, info);
    out->color_space = png_get_color_type(png, info);
    out->bit_depth = png_get_bit_depth(png, info);
    out->interlaced = png_get_interlace_type(png, info) != PNG_INTERLACE_NONE;
    out->has_alpha = (out->color_space & PNG_COLOR_MASK_ALPHA) || png_get_valid(png, info, PNG_INFO_tRNS);
}

int corral_png_info(const uint8_t *data, size_t size, corral_image_info *info, corral_status *st) {
    corral_png_io io = {data, size, 0, 0, {0}};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &io, on_error, on_warning);
    if (!png) return corral_fail(st, CORRAL_TOO_LARGE, "out of memory");
    png_infop pinfo = png_create_info_struct(png);
    if (!pinfo) { png_destroy_read_struct(&png, NULL, NULL); return corral_fail(st, CORRAL_TOO_LARGE, "out of memory"); }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &pinfo, NULL);
        return corral_fail(st, classify(&io), "%s", io.message);
    }
    png_set_read_fn(png, &io, read_mem);
    png_read_info(png, pinfo);
    fill_info(png, pinfo, info);
    png_destroy_read_struct(&png, &pinfo, NULL);
    return corral_ok(st);
}

int corral_png_decode(const uint8_t *data, size_t size, uint64_t max_pixels,
                      uint8_t *out, size_t capacity, corral_status *st) {
    corral_png_io io = {data, size, 0, 0, {0}};
    // Scratch (RGBA image or row, row pointers); volatile so the values survive the longjmp.
    uint8_t *volatile scratch = NULL;
    png_bytep *volatile rows = NULL;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &io, on_error, on_warning);
    if (!png) return corral_fail(st, CORRAL_TOO_LARGE, "out of memory");
    png_infop pinfo = png_create_info_struct(png);
    if (!pinfo) { png_destroy_read_struct(&png, NULL, NULL); return corral_fail(st, CORRAL_TOO_LARGE, "out of memory"); }
    if (setjmp(png_jmpbuf(png))) {
        free(scratch);
        free(rows);
        png_destroy_read_struct(&png, &pinfo, NULL);
        return corral_fail(st, classify(&io), "%s", io.message);
    }
    png_set_read_fn(png, &io, read_mem);
    png_read_info(png, pinfo);
    png_uint_32 w32, h32;
    int depth, color, interlace;
    png_get_IHDR(png, pinfo, &w32, &h32, &depth, &color, &interlace, NULL, NULL);
    uint64_t w = w32, h = h32;
    if (w * h > max_pixels) {
        png_destroy_read_struct(&png, &pinfo, NULL);
        return corral_fail(st, CORRAL_TOO_LARGE, "%llux%llu pixels is over the limit of %llu pixels",
                           (unsigned long long)w, (unsigned long long)h, (unsigned long long)max_pixels);
    }
    if (w * h * 3 > capacity) {
        png_destroy_read_struct(&png, &pinfo, NULL);
        return corral_fail(st, CORRAL_CORRUPT, "output buffer too small for %llux%llu", (unsigned long long)w,
                           (unsigned long long)h);
    }

    if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, pinfo, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
    if (depth == 16) png_set_scale_16(png);  // rounds (v * 255 / 65535) rather than dropping the low byte
    if (color == PNG_COLOR_TYPE_GRAY || color == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(png);
    int passes = png_set_interlace_handling(png);
    png_read_update_info(png, pinfo);
    int channels = png_get_channels(png, pinfo);
    if (channels != 3 && channels != 4)
        png_error(png, "unexpected channel count after transforms");
    size_t out_stride = (size_t)w * 3;

    if (passes == 1) {
        if (channels == 4) scratch = malloc((size_t)w * 4);
        if (channels == 4 && !scratch) png_error(png, "out of memory");
        for (size_t y = 0; y < h; y++) {
            uint8_t *dst = out + y * out_stride;
            if (channels == 3) {
                png_read_row(png, dst, NULL);
            } else {
                png_read_row(png, scratch, NULL);
                corral_rgba_row_over_white(scratch, dst, (size_t)w);
            }
        }
    } else {
        // Adam7 needs the whole image in memory while the passes fill it in.
        size_t stride = (size_t)w * (size_t)channels;
        uint8_t *base = out;
        if (channels == 4) {
            scratch = malloc(stride * h);
            if (!scratch) png_error(png, "out of memory");
            base = scratch;
        }
        rows = malloc(sizeof(png_bytep) * h);
        if (!rows) png_error(png, "out of memory");
        for (size_t y = 0; y < h; y++) rows[y] = base + y * stride;
        png_read_image(png, rows);
        if (channels == 4)
            for (size_t y = 0; y < h; y++) corral_rgba_row_over_white(rows[y], out + y * out_stride, (size_t)w);
    }
    free(scratch);
    free(rows);
    png_destroy_read_struct(&png, &pinfo, NULL);
    return corral_ok(st);
}

typedef struct {
    uint8_t *data;
    size_t size, capacity;
    int failed;
} corral_png_sink;

static void write_mem(png_structp png, png_bytep src, size_t n) {
    corral_png_sink *s = (corral_png_sink *)png_get_io_ptr(png);
    if (s->size + n > s->capacity) {
        size_t cap = s->capacity ? s->capacity : 4096;
        while (cap < s->size + n) cap *= 2;
        uint8_t *grown = realloc(s->data, cap);
        if (!grown) { s->failed = 1; png_error(png, "out of memory"); }
        s->data = grown;
        s->capacity = cap;
    }
    memcpy(s->data + s->size, src, n);
    s->size += n;
}

static void flush_mem(png_structp png) { (void)png; }

int corral_png_encode(const uint8_t *rows_data, size_t row_bytes, int width, int height, int bit_depth,
                      int color_type, int interlace, const uint8_t *palette_rgb, int palette_count,
                      const uint8_t *palette_alpha, int palette_alpha_count, const uint16_t *trns_color,
                      uint8_t **out, size_t *out_size, corral_status *st) {
    corral_png_io err = {0};
    corral_png_sink sink = {0};
    png_bytep *volatile rows = NULL;
    *out = NULL;
    *out_size = 0;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &err, on_error, on_warning);
    if (!png) return corral_fail(st, CORRAL_TOO_LARGE, "out of memory");
    png_infop info = png_create_info_struct(png);
    if (!info) { png_destroy_write_struct(&png, NULL); return corral_fail(st, CORRAL_TOO_LARGE, "out of memory"); }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        free(rows);
        free(sink.data);
        return corral_fail(st, CORRAL_CORRUPT, "%s", err.message);
    }
    png_set_write_fn(png, &sink, write_mem, flush_mem);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, bit_depth, color_type,
                 interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    if (color_type == PNG_COLOR_TYPE_PALETTE && palette_rgb && palette_count > 0) {
        png_color pal[256];
        for (int i = 0; i < palette_count && i < 256; i++) {
            pal[i].red = palette_rgb[3 * i];
            pal[i].green = palette_rgb[3 * i + 1];
            pal[i].blue = palette_rgb[3 * i + 2];
        }
        png_set_PLTE(png, info, pal, palette_count > 256 ? 256 : palette_count);
        if (palette_alpha && palette_alpha_count > 0)
            png_set_tRNS(png, info, palette_alpha, palette_alpha_count, NULL);
    }
    if (trns_color && (color_type == PNG_COLOR_TYPE_GRAY || color_type == PNG_COLOR_TYPE_RGB)) {
        png_color_16 t = {0};
        if (color_type == PNG_COLOR_TYPE_GRAY) t.gray = trns_color[0];
        else { t.red = trns_color[0]; t.green = trns_color[1]; t.blue = trns_color[2]; }
        png_set_tRNS(png, info, NULL, 0, &t);
    }
    png_set_compression_level(png, 6);
    png_write_info(png, info);
    rows = malloc(sizeof(png_bytep) * (size_t)height);
    if (!rows) png_error(png, "out of memory");
    for (int y = 0; y < height; y++) rows[y] = (png_bytep)(rows_data + (size_t)y * row_bytes);
    png_write_image(png, rows);
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    free(rows);
    *out = sink.data;
    *out_size = sink.size;
    return corral_ok(st);
}
