// HEIC/HEIF through libheif, loaded at run time with dlopen so that the build needs neither
// libheif's headers nor the library: where libheif.so.1 is installed HEIC decodes, elsewhere it is
// reported as unsupported. Only the handful of libheif entry points used here are declared, with
// the C ABI of libheif 1.x (struct heif_error returned by value; enums are ints).
#include "common.h"
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>

typedef struct { int code; int subcode; const char *message; } hf_error;
typedef struct hf_context hf_context;
typedef struct hf_handle hf_handle;
typedef struct hf_image hf_image;
typedef struct hf_encoder hf_encoder;
typedef struct {
    int writer_api_version;
    hf_error (*write)(hf_context *ctx, const void *data, size_t size, void *userdata);
} hf_writer;

enum { HF_COLORSPACE_RGB = 1, HF_CHROMA_RGB = 10, HF_CHROMA_RGBA = 11, HF_CHANNEL_INTERLEAVED = 10,
       HF_COMPRESSION_HEVC = 1 };

static struct {
    int available;
    hf_error (*init)(void *);
    hf_context *(*context_alloc)(void);
    void (*context_free)(hf_context *);
    hf_error (*read_memory)(hf_context *, const void *, size_t, const void *);
    hf_error (*primary_handle)(hf_context *, hf_handle **);
    void (*handle_release)(const hf_handle *);
    int (*handle_width)(const hf_handle *);
    int (*handle_height)(const hf_handle *);
    int (*handle_has_alpha)(const hf_handle *);
    hf_error (*decode)(const hf_handle *, hf_image **, int colorspace, int chroma, const void *options);
    const uint8_t *(*plane_readonly)(const hf_image *, int channel, int *stride);
    int (*image_width)(const hf_image *, int channel);
    int (*image_height)(const hf_image *, int channel);
    void (*image_release)(const hf_image *);
    int (*metadata_ids)(const hf_handle *, const char *type, uint32_t *ids, int count);
    size_t (*metadata_size)(const hf_handle *, uint32_t id);
    hf_error (*metadata)(const hf_handle *, uint32_t id, void *out);
    // Encoding (fixtures only).
    hf_error (*encoder_for_format)(hf_context *, int format, hf_encoder **);
    void (*encoder_release)(hf_encoder *);
    hf_error (*encoder_quality)(hf_encoder *, int);
    hf_error (*image_create)(int w, int h, int colorspace, int chroma, hf_image **);
    hf_error (*add_plane)(hf_image *, int channel, int w, int h, int depth);
    uint8_t *(*plane)(hf_image *, int channel, int *stride);
    hf_error (*encode)(hf_context *, const hf_image *, hf_encoder *, const void *options, hf_handle **);
    hf_error (*write)(hf_context *, hf_writer *, void *userdata);
    hf_error (*add_exif)(hf_context *, const hf_handle *, const void *data, int size);
} H;

static pthread_once_t heif_once = PTHREAD_ONCE_INIT;

#define LOAD(field, name) do { *(void **)(&H.field) = dlsym(lib, name); if (!H.field) return; } while (0)

static void load_heif(void) {
    void *lib = dlopen("libheif.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib) lib = dlopen("libheif.so", RTLD_NOW | RTLD_LOCAL);
    if (!lib) return;
    *(void **)(&H.init) = dlsym(lib, "heif_init");  // optional before libheif 1.13
    LOAD(context_alloc, "heif_context_alloc");
    LOAD(context_free, "heif_context_free");
    LOAD(read_memory, "heif_context_read_from_memory_without_copy");
    LOAD(primary_handle, "heif_context_get_primary_image_handle");
    LOAD(handle_release, "heif_image_handle_release");
    LOAD(handle_width, "heif_image_handle_get_width");
    LOAD(handle_height, "heif_image_handle_get_height");
    LOAD(handle_has_alpha, "heif_image_handle_has_alpha_channel");
    LOAD(decode, "heif_decode_image");
    LOAD(plane_readonly, "heif_image_get_plane_readonly");
    LOAD(image_width, "heif_image_get_width");
    LOAD(image_height, "heif_image_get_height");
    LOAD(image_release, "heif_image_release");
    LOAD(metadata_ids, "heif_image_handle_get_list_of_metadata_block_IDs");
    LOAD(metadata_size, "heif_image_handle_get_metadata_size");
    LOAD(metadata, "heif_image_handle_get_metadata");
    if (H.init) H.init(NULL);
    H.available = 1;
    // Encoder entry points are optional: decoding works without them.
    *(void **)(&H.encoder_for_format) = dlsym(lib, "heif_context_get_encoder_for_format");
    *(void **)(&H.encoder_release) = dlsym(lib, "heif_encoder_release");
    *(void **)(&H.encoder_quality) = dlsym(lib, "heif_encoder_set_lossy_quality");
    *(void **)(&H.image_create) = dlsym(lib, "heif_image_create");
    *(void **)(&H.add_plane) = dlsym(lib, "heif_image_add_plane");
    *(void **)(&H.plane) = dlsym(lib, "heif_image_get_plane");
    *(void **)(&H.encode) = dlsym(lib, "heif_context_encode_image");
    *(void **)(&H.write) = dlsym(lib, "heif_context_write");
    *(void **)(&H.add_exif) = dlsym(lib, "heif_context_add_exif_metadata");
}

int corral_heic_available(void) {
    pthread_once(&heif_once, load_heif);
    return H.available;
}

// libheif error codes: 1 input does not exist, 2 invalid input, 4 unsupported filetype,
// 5 unsupported feature, 6 usage error, 7 memory allocation error, 8 decoder plugin error.
static int heif_kind(hf_error e) {
    switch (e.code) {
    case 4: case 5: case 8: return CORRAL_UNSUPPORTED;
    case 7: return CORRAL_TOO_LARGE;
    case 2: return e.subcode == 100 ? CORRAL_TRUNCATED : CORRAL_CORRUPT;  // 100: end of data
    default: return CORRAL_CORRUPT;
    }
}

static int heif_fail(corral_status *st, hf_error e) {
    return corral_fail(st, heif_kind(e), "%s", e.message ? e.message : "HEIF error");
}

static int open_primary(const uint8_t *data, size_t size, hf_context **ctx, hf_handle **handle, corral_status *st) {
    if (!corral_heic_available())
        return corral_fail(st, CORRAL_UNSUPPORTED, "HEIC needs libheif, which is not installed");
    *ctx = H.context_alloc();
    *handle = NULL;
    if (!*ctx) return corral_fail(st, CORRAL_TOO_LARGE, "out of memory");
    hf_error e = H.read_memory(*ctx, data, size, NULL);
    if (e.code == 0) e = H.primary_handle(*ctx, handle);
    if (e.code != 0) {
        H.context_free(*ctx);
        *ctx = NULL;
        return heif_fail(st, e);
    }
    return CORRAL_OK;
}

int corral_heic_info(const uint8_t *data, size_t size, corral_image_info *info, corral_status *st) {
    hf_context *ctx;
    hf_handle *handle;
    if (open_primary(data, size, &ctx, &handle, st) != CORRAL_OK) return st->code;
    memset(info, 0, sizeof *info);
    info->width = H.handle_width(handle);   // after the container's rotation/mirroring
    info->height = H.handle_height(handle);
    info->has_alpha = H.handle_has_alpha(handle);
    info->components = info->has_alpha ? 4 : 3;
    H.handle_release(handle);
    H.context_free(ctx);
    return corral_ok(st);
}

int corral_heic_decode(const uint8_t *data, size_t size, uint64_t max_pixels, uint8_t *out, size_t capacity,
                       int *out_width, int *out_height, corral_status *st) {
    hf_context *ctx;
    hf_handle *handle;
    if (open_primary(data, size, &ctx, &handle, st) != CORRAL_OK) return st->code;
    uint64_t hw = (uint64_t)H.handle_width(handle), hh = (uint64_t)H.handle_height(handle);
    int rc = CORRAL_OK;
    hf_image *img = NULL;
    if (hw * hh > max_pixels) {
        rc = corral_fail(st, CORRAL_TOO_LARGE, "%llux%llu pixels is over the limit of %llu pixels",
                         (unsigned long long)hw, (unsigned long long)hh, (unsigned long long)max_pixels);
        goto done;
    }
    int alpha = H.handle_has_alpha(handle);
    // Default decoding options apply the container's rotation and mirroring (irot/imir).
    hf_error e = H.decode(handle, &img, HF_COLORSPACE_RGB, alpha ? HF_CHROMA_RGBA : HF_CHROMA_RGB, NULL);
    if (e.code != 0) { rc = heif_fail(st, e); img = NULL; goto done; }
    int stride = 0;
    const uint8_t *plane = H.plane_readonly(img, HF_CHANNEL_INTERLEAVED, &stride);
    int w = H.image_width(img, HF_CHANNEL_INTERLEAVED), h = H.image_height(img, HF_CHANNEL_INTERLEAVED);
    if (!plane || w <= 0 || h <= 0 || (uint64_t)w * (uint64_t)h * 3 > capacity) {
        rc = corral_fail(st, CORRAL_CORRUPT, "unexpected decoded HEIC size %dx%d", w, h);
        goto done;
    }
    for (int y = 0; y < h; y++) {
        const uint8_t *src = plane + (size_t)y * (size_t)stride;
        uint8_t *dst = out + (size_t)y * (size_t)w * 3;
        if (alpha) corral_rgba_row_over_white(src, dst, (size_t)w);
        else memcpy(dst, src, (size_t)w * 3);
    }
    *out_width = w;
    *out_height = h;
    corral_ok(st);
done:
    if (img) H.image_release(img);
    H.handle_release(handle);
    H.context_free(ctx);
    return rc;
}

int corral_heic_exif(const uint8_t *data, size_t size, uint8_t **out, size_t *length) {
    hf_context *ctx;
    hf_handle *handle;
    corral_status st;
    *out = NULL;
    *length = 0;
    if (open_primary(data, size, &ctx, &handle, &st) != CORRAL_OK) return 0;
    uint32_t id;
    int found = 0;
    if (H.metadata_ids(handle, "Exif", &id, 1) == 1) {
        size_t n = H.metadata_size(handle, id);
        if (n > 0 && n < (16u << 20)) {
            uint8_t *buf = malloc(n);
            if (buf && H.metadata(handle, id, buf).code == 0) {
                *out = buf;
                *length = n;
                found = 1;
            } else {
                free(buf);
            }
        }
    }
    H.handle_release(handle);
    H.context_free(ctx);
    return found;
}

typedef struct { uint8_t *data; size_t size; } heif_sink;

static hf_error write_sink(hf_context *ctx, const void *data, size_t size, void *userdata) {
    (void)ctx;
    heif_sink *s = userdata;
    hf_error ok = {0, 0, "ok"}, fail = {7, 0, "out of memory"};
    uint8_t *grown = realloc(s->data, s->size + size);
    if (!grown) return fail;
    memcpy(grown + s->size, data, size);
    s->data = grown;
    s->size += size;
    return ok;
}

int corral_heic_encode(const uint8_t *rgb, int width, int height, int quality, const uint8_t *exif, size_t exif_size,
                       uint8_t **out, size_t *out_size, corral_status *st) {
    *out = NULL;
    *out_size = 0;
    if (!corral_heic_available() || !H.encoder_for_format || !H.image_create || !H.add_plane || !H.plane ||
        !H.encode || !H.write || !H.encoder_release || !H.encoder_quality)
        return corral_fail(st, CORRAL_UNSUPPORTED, "libheif encoder not available");
    hf_context *ctx = H.context_alloc();
    hf_encoder *enc = NULL;
    hf_image *img = NULL;
    hf_handle *handle = NULL;
    heif_sink sink = {0};
    int rc = CORRAL_OK;
    hf_error e = H.encoder_for_format(ctx, HF_COMPRESSION_HEVC, &enc);
    if (e.code == 0) e = H.encoder_quality(enc, quality);
    if (e.code == 0) e = H.image_create(width, height, HF_COLORSPACE_RGB, HF_CHROMA_RGB, &img);
    if (e.code == 0) e = H.add_plane(img, HF_CHANNEL_INTERLEAVED, width, height, 8);
    if (e.code == 0) {
        int stride = 0;
        uint8_t *p = H.plane(img, HF_CHANNEL_INTERLEAVED, &stride);
        for (int y = 0; y < height; y++) memcpy(p + (size_t)y * (size_t)stride, rgb + (size_t)y * (size_t)width * 3, (size_t)width * 3);
        e = H.encode(ctx, img, enc, NULL, &handle);
    }
    if (e.code == 0 && exif && exif_size > 0 && H.add_exif) e = H.add_exif(ctx, handle, exif, (int)exif_size);
    if (e.code == 0) {
        hf_writer writer = {1, write_sink};
        e = H.write(ctx, &writer, &sink);
    }
    if (e.code != 0) {
        rc = heif_fail(st, e);
        free(sink.data);
    } else {
        *out = sink.data;
        *out_size = sink.size;
        corral_ok(st);
    }
    if (handle) H.handle_release(handle);
    if (img) H.image_release(img);
    if (enc) H.encoder_release(enc);
    H.context_free(ctx);
    return rc;
}
