// JPEG through libjpeg-turbo. Errors longjmp back into the function that started the work; warnings
// that mean the picture is damaged (data ends early, bad Huffman code) are promoted to errors so a
// half-grey image never reaches the embedder. Nothing is printed: output_message is a no-op.
#include "common.h"
#include <setjmp.h>
#include <stdlib.h>
#include <jpeglib.h>
#include <jerror.h>

// libjpeg-turbo keeps whole-image coefficient buffers in memory for progressive files; without a
// backing store, going over this fails cleanly ("too large") instead of exhausting the machine.
#define CORRAL_JPEG_MAX_MEMORY (1024L * 1024L * 1024L)

typedef struct {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    int kind;
    char message[JMSG_LENGTH_MAX];
} corral_jpeg_error;

static int classify(int code) {
    switch (code) {
    case JWRN_JPEG_EOF: case JERR_INPUT_EOF: case JERR_INPUT_EMPTY: case JERR_NO_IMAGE:
        return CORRAL_TRUNCATED;
    case JERR_BAD_PRECISION: case JERR_NOT_COMPILED: case JERR_CONVERSION_NOTIMPL:
    case JERR_SOF_UNSUPPORTED: case JERR_ARITH_NOTIMPL: case JERR_CCIR601_NOTIMPL:
    case JERR_NO_ARITH_TABLE: case JERR_QUANT_COMPONENTS:
        return CORRAL_UNSUPPORTED;
    case JERR_OUT_OF_MEMORY: case JERR_NO_BACKING_STORE: case JERR_IMAGE_TOO_BIG:
    case JERR_WIDTH_OVERFLOW: case JERR_TFILE_CREATE:
        return CORRAL_TOO_LARGE;
    default:
        return CORRAL_CORRUPT;
    }
}

static void on_error(j_common_ptr cinfo) {
    corral_jpeg_error *e = (corral_jpeg_error *)cinfo->err;
    e->pub.format_message(cinfo, e->message);
    e->kind = classify(e->pub.msg_code);
    longjmp(e->jump, 1);
}

static void on_message(j_common_ptr cinfo, int level) {
    corral_jpeg_error *e = (corral_jpeg_error *)cinfo->err;
    if (level >= 0) return;  // trace messages
    int code = e->pub.msg_code;
    if (code == JWRN_JPEG_EOF || code == JWRN_HUFF_BAD_CODE) {
        e->pub.format_message(cinfo, e->message);
        e->kind = classify(code);
        longjmp(e->jump, 1);
    }
    e->pub.num_warnings++;  // tolerated: e.g. extraneous bytes before a marker, common in camera files
}

static void on_output(j_common_ptr cinfo) { (void)cinfo; }

static void install_errors(corral_jpeg_error *e) {
    jpeg_std_error(&e->pub);
    e->pub.error_exit = on_error;
    e->pub.emit_message = on_message;
    e->pub.output_message = on_output;
    e->kind = CORRAL_CORRUPT;
    e->message[0] = 0;
}

static void fill_info(struct jpeg_decompress_struct *d, corral_image_info *info) {
    memset(info, 0, sizeof *info);
    info->width = (int)d->image_width;
    info->height = (int)d->image_height;
    info->components = d->num_components;
    info->color_space = d->jpeg_color_space;
    info->bit_depth = d->data_precision;
    info->progressive = d->progressive_mode;
    info->adobe = d->saw_Adobe_marker;
}

int corral_jpeg_info(const uint8_t *data, size_t size, corral_image_info *info, corral_status *st) {
    struct jpeg_decompress_struct d;
    corral_jpeg_error err;
    install_errors(&err);
    d.err = &err.pub;
    if (setjmp(err.jump)) {
        jpeg_destroy_decompress(&d);
        return corral_fail(st, err.kind, "%s", err.message);
    }
    jpeg_create_decompress(&d);
    jpeg_mem_src(&d, data, (unsigned long)size);
    jpeg_read_header(&d, TRUE);
    fill_info(&d, info);
    jpeg_destroy_decompress(&d);
    return corral_ok(st);
}

void corral_jpeg_scaled_size(int width, int height, int scale_num, int *out_width, int *out_height) {
    // jdiv_round_up(image_width * scale_num, 8), as jpeg_calc_output_dimensions does.
    *out_width = (int)(((long)width * scale_num + 7) / 8);
    *out_height = (int)(((long)height * scale_num + 7) / 8);
}

static inline uint8_t mul255(unsigned a, unsigned b) {
    unsigned t = a * b + 128u;
    return (uint8_t)((t + (t >> 8)) >> 8);
}

int corral_jpeg_decode(const uint8_t *data, size_t size, int scale_num, uint64_t max_pixels,
                       uint8_t *out, size_t capacity, int *out_width, int *out_height, corral_status *st) {
    struct jpeg_decompress_struct d;
    corral_jpeg_error err;
    // Heap scratch for CMYK rows; volatile so its value survives the longjmp.
    uint8_t *volatile cmyk = NULL;
    install_errors(&err);
    d.err = &err.pub;
    if (setjmp(err.jump)) {
        free(cmyk);
        jpeg_destroy_decompress(&d);
        return corral_fail(st, err.kind, "%s", err.message);
    }
    jpeg_create_decompress(&d);
    d.mem->max_memory_to_use = CORRAL_JPEG_MAX_MEMORY;
    jpeg_mem_src(&d, data, (unsigned long)size);
    jpeg_read_header(&d, TRUE);

    if (scale_num < 1) scale_num = 1;
    if (scale_num > 8) scale_num = 8;
    d.scale_num = (unsigned)scale_num;
    d.scale_denom = 8;
    int is_cmyk = d.jpeg_color_space == JCS_CMYK || d.jpeg_color_space == JCS_YCCK;
    d.out_color_space = is_cmyk ? JCS_CMYK : JCS_RGB;
    jpeg_calc_output_dimensions(&d);

    uint64_t w = d.output_width, h = d.output_height;
    if (w * h > max_pixels) {
        jpeg_destroy_decompress(&d);
        return corral_fail(st, CORRAL_TOO_LARGE, "%llux%llu pixels at scale %d/8 is over the limit of %llu pixels",
                           (unsigned long long)w, (unsigned long long)h, scale_num, (unsigned long long)max_pixels);
    }
    if (w * h * 3 > capacity) {
        jpeg_destroy_decompress(&d);
        return corral_fail(st, CORRAL_CORRUPT, "output buffer too small for %llux%llu", (unsigned long long)w,
                           (unsigned long long)h);
    }
    *out_width = (int)w;
    *out_height = (int)h;

    jpeg_start_decompress(&d);
    if (is_cmyk) {
        cmyk = malloc(w * 4);
        if (!cmyk) { jpeg_destroy_decompress(&d); return corral_fail(st, CORRAL_TOO_LARGE, "out of memory"); }
        int inverted = d.saw_Adobe_marker;  // Adobe (Photoshop) writes CMYK with every channel inverted
        while (d.output_scanline < d.output_height) {
            uint8_t *row = cmyk;
            size_t y = d.output_scanline;
            jpeg_read_scanlines(&d, (JSAMPARRAY)&row, 1);
            uint8_t *o = out + y * w * 3;
            for (size_t x = 0; x < w; x++) {
                unsigned c = cmyk[4 * x], m = cmyk[4 * x + 1], yy = cmyk[4 * x + 2], k = cmyk[4 * x + 3];
                if (!inverted) { c = 255 - c; m = 255 - m; yy = 255 - yy; k = 255 - k; }
                o[3 * x] = mul255(c, k);
                o[3 * x + 1] = mul255(m, k);
                o[3 * x + 2] = mul255(yy, k);
            }
        }
    } else {
        JSAMPROW rows[16];
        while (d.output_scanline < d.output_height) {
            size_t y = d.output_scanline;
            int n = 0;
            for (; n < 16 && y + (size_t)n < h; n++) rows[n] = out + (y + (size_t)n) * w * 3;
            jpeg_read_scanlines(&d, rows, (JDIMENSION)n);
        }
    }
    jpeg_finish_decompress(&d);
    jpeg_destroy_decompress(&d);
    free(cmyk);
    return corral_ok(st);
}

int corral_jpeg_encode(const uint8_t *pixels, int width, int height, int components, int quality,
                       int progressive, int h_samp, int v_samp, int ycck,
                       uint8_t **out, size_t *out_size, corral_status *st) {
    struct jpeg_compress_struct c;
    corral_jpeg_error err;
    unsigned char *dest = NULL;  // malloc'd by jpeg_mem_dest; its address is taken, so it survives longjmp
    unsigned long length = 0;
    *out = NULL;
    *out_size = 0;
    if (components != 1 && components != 3 && components != 4)
        return corral_fail(st, CORRAL_UNSUPPORTED, "cannot encode %d components", components);
    if (width <= 0 || height <= 0 || width > 65500 || height > 65500)
        return corral_fail(st, CORRAL_TOO_LARGE, "cannot encode a %dx%d JPEG", width, height);
    install_errors(&err);
    c.err = &err.pub;
    if (setjmp(err.jump)) {
        jpeg_destroy_compress(&c);
        free(dest);
        return corral_fail(st, err.kind, "%s", err.message);
    }
    jpeg_create_compress(&c);
    jpeg_mem_dest(&c, &dest, &length);
    c.image_width = (JDIMENSION)width;
    c.image_height = (JDIMENSION)height;
    c.input_components = components;
    c.in_color_space = components == 1 ? JCS_GRAYSCALE : components == 3 ? JCS_RGB : JCS_CMYK;
    jpeg_set_defaults(&c);
    if (components == 4) jpeg_set_colorspace(&c, ycck ? JCS_YCCK : JCS_CMYK);  // writes the Adobe marker
    jpeg_set_quality(&c, quality, TRUE);
    if (components >= 3) {
        c.comp_info[0].h_samp_factor = h_samp;
        c.comp_info[0].v_samp_factor = v_samp;
        for (int i = 1; i < c.num_components; i++) {
            c.comp_info[i].h_samp_factor = 1;
            c.comp_info[i].v_samp_factor = 1;
        }
        if (components == 4 && !ycck) {  // plain CMYK: keep every channel at full resolution
            c.comp_info[0].h_samp_factor = 1;
            c.comp_info[0].v_samp_factor = 1;
        }
        if (components == 4 && ycck) {   // K at full resolution like Y
            c.comp_info[3].h_samp_factor = h_samp;
            c.comp_info[3].v_samp_factor = v_samp;
        }
    }
    if (progressive) jpeg_simple_progression(&c);
    jpeg_start_compress(&c, TRUE);
    size_t stride = (size_t)width * (size_t)components;
    while (c.next_scanline < c.image_height) {
        JSAMPROW row = (JSAMPROW)(pixels + (size_t)c.next_scanline * stride);
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    *out = dest;
    *out_size = length;
    return corral_ok(st);
}
