#ifndef CORRAL_CIMAGECODECS_H
#define CORRAL_CIMAGECODECS_H
// The C side of Corral's image codecs. libpng and libjpeg report errors by longjmp; that control
// flow stays inside these functions, which return a status code and a message instead. No library
// here ever writes to stdout or stderr: every error, warning and trace message is captured.
//
// Decoding is two calls: *_info reads the header (cheap), the caller allocates the RGB8 output
// (so Swift owns the memory and nothing is copied), then *_decode fills it. Both calls check the
// pixel limit before any large allocation.
#include <stddef.h>
#include <stdint.h>

enum {
    CORRAL_OK = 0,
    CORRAL_TRUNCATED = 1,    // the data ends before the image does
    CORRAL_CORRUPT = 2,      // malformed data (bad Huffman table, CRC, bitstream error, ...)
    CORRAL_UNSUPPORTED = 3,  // valid but not something we decode (12-bit JPEG, animated WebP, ...)
    CORRAL_TOO_LARGE = 4,    // over the pixel or memory limit
};

typedef struct {
    int code;
    char message[200];
} corral_status;

typedef struct {
    int width, height;   // as stored (before EXIF orientation)
    int components;      // JPEG: 1, 3 or 4; PNG: channels in the file; WebP: 3 or 4
    int color_space;     // JPEG: J_COLOR_SPACE of the file; PNG: colour type
    int bit_depth;       // PNG only
    int interlaced;      // PNG Adam7
    int has_alpha;       // PNG (alpha channel or tRNS) and WebP
    int progressive;     // JPEG
    int adobe;           // JPEG: Adobe APP14 marker seen (CMYK stored inverted)
} corral_image_info;

// ---- JPEG (libjpeg-turbo) ----
int corral_jpeg_info(const uint8_t *data, size_t size, corral_image_info *info, corral_status *st);
// Output size of a decode at scale_num/8 (1...16), exactly as libjpeg computes it.
void corral_jpeg_scaled_size(int width, int height, int scale_num, int *out_width, int *out_height);
// Decodes at scale_num/8 into `out` (RGB8, out_width*out_height*3 bytes, checked against capacity).
// Grayscale is expanded to RGB; CMYK/YCCK converted with Adobe inversion when the marker says so.
int corral_jpeg_decode(const uint8_t *data, size_t size, int scale_num, uint64_t max_pixels,
                       uint8_t *out, size_t capacity, int *out_width, int *out_height, corral_status *st);
// components: 1 (gray), 3 (RGB, stored YCbCr) or 4 (CMYK, written Adobe-style, YCCK if ycck).
// h_samp/v_samp: luma sampling factors (2,2 = 4:2:0; 2,1 = 4:2:2; 1,1 = 4:4:4).
int corral_jpeg_encode(const uint8_t *pixels, int width, int height, int components, int quality,
                       int progressive, int h_samp, int v_samp, int ycck,
                       uint8_t **out, size_t *out_size, corral_status *st);

// ---- PNG (libpng) ----
int corral_png_info(const uint8_t *data, size_t size, corral_image_info *info, corral_status *st);
// Any colour type and bit depth, tRNS, Adam7; 16-bit scaled to 8; alpha composited over white.
int corral_png_decode(const uint8_t *data, size_t size, uint64_t max_pixels,
                      uint8_t *out, size_t capacity, corral_status *st);
// Writes rows already packed in PNG's own sample layout (bit-packed below 8 bits, big-endian 16-bit).
// trns_color: gray (1 value) or RGB (3 values) transparent colour, or NULL; palette_alpha for PLTE.
int corral_png_encode(const uint8_t *rows, size_t row_bytes, int width, int height, int bit_depth,
                      int color_type, int interlace, const uint8_t *palette_rgb, int palette_count,
                      const uint8_t *palette_alpha, int palette_alpha_count, const uint16_t *trns_color,
                      uint8_t **out, size_t *out_size, corral_status *st);

// ---- WebP (libwebp) ----
int corral_webp_info(const uint8_t *data, size_t size, corral_image_info *info, corral_status *st);
// Lossy, lossless, with or without alpha (composited over white). Animated files are refused.
int corral_webp_decode(const uint8_t *data, size_t size, uint64_t max_pixels,
                       uint8_t *out, size_t capacity, corral_status *st);
// Finds the EXIF chunk through WebPDemux; returns 1 and its offset/length inside `data`, else 0.
int corral_webp_exif(const uint8_t *data, size_t size, size_t *offset, size_t *length);
// pixels: RGB (has_alpha 0) or RGBA (has_alpha 1), tightly packed.
int corral_webp_encode(const uint8_t *pixels, int width, int height, int has_alpha, int lossless,
                       float quality, uint8_t **out, size_t *out_size, corral_status *st);

// ---- HEIC/HEIF (libheif, loaded at run time with dlopen; optional) ----
// 1 when libheif.so.1 could be loaded; otherwise every HEIC call reports CORRAL_UNSUPPORTED.
int corral_heic_available(void);
// Size of the primary image after the container's rotation/mirroring, which decoding applies.
int corral_heic_info(const uint8_t *data, size_t size, corral_image_info *info, corral_status *st);
int corral_heic_decode(const uint8_t *data, size_t size, uint64_t max_pixels, uint8_t *out, size_t capacity,
                       int *out_width, int *out_height, corral_status *st);
// The primary image's Exif metadata block (4-byte TIFF offset header included), malloc'd; 0 if none.
int corral_heic_exif(const uint8_t *data, size_t size, uint8_t **out, size_t *length);
// Fixtures only: HEVC-coded HEIC of an RGB image, with an optional Exif block.
int corral_heic_encode(const uint8_t *rgb, int width, int height, int quality, const uint8_t *exif, size_t exif_size,
                       uint8_t **out, size_t *out_size, corral_status *st);

// Frees buffers returned by the encoders.
void corral_free(void *p);

// Raises the calling thread's nice value by `amount` (capped at 19); 0 on success. Used by
// Catalog's decode workers to yield to inference.
int corral_lower_thread_priority(int amount);

#endif
