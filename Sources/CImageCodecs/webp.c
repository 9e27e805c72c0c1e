// WebP through libwebp's advanced decoding API (so we get a status code, not just NULL), decoding
// straight into the caller's buffer. libwebp never prints; it only returns status codes.
#include "common.h"
#include <stdlib.h>
#include <webp/decode.h>
#include <webp/demux.h>
#include <webp/encode.h>

static int status_kind(VP8StatusCode s) {
    switch (s) {
    case VP8_STATUS_NOT_ENOUGH_DATA: return CORRAL_TRUNCATED;
    case VP8_STATUS_UNSUPPORTED_FEATURE: return CORRAL_UNSUPPORTED;
    case VP8_STATUS_OUT_OF_MEMORY: return CORRAL_TOO_LARGE;
    default: return CORRAL_CORRUPT;
    }
}

static const char *status_text(VP8StatusCode s) {
    switch (s) {
    case VP8_STATUS_NOT_ENOUGH_DATA: return "file ends before the image does";
    case VP8_STATUS_UNSUPPORTED_FEATURE: return "unsupported WebP feature";
    case VP8_STATUS_OUT_OF_MEMORY: return "out of memory";
    case VP8_STATUS_BITSTREAM_ERROR: return "corrupt WebP bitstream";
    case VP8_STATUS_INVALID_PARAM: return "invalid WebP parameters";
    default: return "WebP decoding failed";
    }
}

int corral_webp_info(const uint8_t *data, size_t size, corral_image_info *info, corral_status *st) {
    WebPBitstreamFeatures f;
    VP8StatusCode s = WebPGetFeatures(data, size, &f);
    if (s != VP8_STATUS_OK) return corral_fail(st, status_kind(s), "%s", status_text(s));
    memset(info, 0, sizeof *info);
    info->width = f.width;
    info->height = f.height;
    info->has_alpha = f.has_alpha;
    info->components = f.has_alpha ? 4 : 3;
    info->color_space = f.format;  // 0 mixed/undefined, 1 lossy, 2 lossless
    if (f.has_animation) return corral_fail(st, CORRAL_UNSUPPORTED, "animated WebP is not supported");
    return corral_ok(st);
}

int corral_webp_decode(const uint8_t *data, size_t size, uint64_t max_pixels,
                       uint8_t *out, size_t capacity, corral_status *st) {
    WebPDecoderConfig config;
    if (!WebPInitDecoderConfig(&config)) return corral_fail(st, CORRAL_UNSUPPORTED, "libwebp version mismatch");
    VP8StatusCode s = WebPGetFeatures(data, size, &config.input);
    if (s != VP8_STATUS_OK) return corral_fail(st, status_kind(s), "%s", status_text(s));
    if (config.input.has_animation) return corral_fail(st, CORRAL_UNSUPPORTED, "animated WebP is not supported");
    uint64_t w = (uint64_t)config.input.width, h = (uint64_t)config.input.height;
    if (w * h > max_pixels)
        return corral_fail(st, CORRAL_TOO_LARGE, "%llux%llu pixels is over the limit of %llu pixels",
                           (unsigned long long)w, (unsigned long long)h, (unsigned long long)max_pixels);
    if (w * h * 3 > capacity) return corral_fail(st, CORRAL_CORRUPT, "output buffer too small");
    int alpha = config.input.has_alpha;
    uint8_t *rgba = NULL;
    config.output.is_external_memory = 1;
    if (alpha) {
        rgba = malloc(w * h * 4);
        if (!rgba) return corral_fail(st, CORRAL_TOO_LARGE, "out of memory");
        config.output.colorspace = MODE_RGBA;
        config.output.u.RGBA.rgba = rgba;
        config.output.u.RGBA.stride = (int)(w * 4);
        config.output.u.RGBA.size = w * h * 4;
    } else {
        config.output.colorspace = MODE_RGB;
        config.output.u.RGBA.rgba = out;
        config.output.u.RGBA.stride = (int)(w * 3);
        config.output.u.RGBA.size = w * h * 3;
    }
    s = WebPDecode(data, size, &config);
    WebPFreeDecBuffer(&config.output);
    if (s != VP8_STATUS_OK) {
        free(rgba);
        return corral_fail(st, status_kind(s), "%s", status_text(s));
    }
    if (alpha) {
        for (size_t y = 0; y < h; y++) corral_rgba_row_over_white(rgba + y * w * 4, out + y * w * 3, (size_t)w);
        free(rgba);
    }
    return corral_ok(st);
}

int corral_webp_exif(const uint8_t *data, size_t size, size_t *offset, size_t *length) {
    WebPData wd = {data, size};
    WebPDemuxer *dmux = WebPDemux(&wd);
    if (!dmux) return 0;
    int found = 0;
    if (WebPDemuxGetI(dmux, WEBP_FF_FORMAT_FLAGS) & EXIF_FLAG) {
        WebPChunkIterator it;
        if (WebPDemuxGetChunk(dmux, "EXIF", 1, &it)) {
            *offset = (size_t)(it.chunk.bytes - data);
            *length = it.chunk.size;
            found = 1;
            WebPDemuxReleaseChunkIterator(&it);
        }
    }
    WebPDemuxDelete(dmux);
    return found;
}

int corral_webp_encode(const uint8_t *pixels, int width, int height, int has_alpha, int lossless,
                       float quality, uint8_t **out, size_t *out_size, corral_status *st) {
    uint8_t *encoded = NULL;
    size_t n;
    int stride = width * (has_alpha ? 4 : 3);
    if (lossless)
        n = has_alpha ? WebPEncodeLosslessRGBA(pixels, width, height, stride, &encoded)
                      : WebPEncodeLosslessRGB(pixels, width, height, stride, &encoded);
    else
        n = has_alpha ? WebPEncodeRGBA(pixels, width, height, stride, quality, &encoded)
                      : WebPEncodeRGB(pixels, width, height, stride, quality, &encoded);
    if (n == 0 || !encoded) return corral_fail(st, CORRAL_CORRUPT, "WebP encoding failed for %dx%d", width, height);
    *out = malloc(n);
    if (!*out) { WebPFree(encoded); return corral_fail(st, CORRAL_TOO_LARGE, "out of memory"); }
    memcpy(*out, encoded, n);
    *out_size = n;
    WebPFree(encoded);
    return corral_ok(st);
}
