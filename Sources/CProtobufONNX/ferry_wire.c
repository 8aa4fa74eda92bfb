/* Ferry's hand-written helpers around libprotobuf-c (not generated). */
#include "include/ferry_wire.h"
#include "include/onnx.pb-c.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define FERRY_MAX_FIELDS 32
/* Each decoded message costs a few hundred bytes of memory; this caps what a small hostile file
 * of empty messages can make Ferry allocate (about 1 GB), far above any real model. */
#define FERRY_MAX_MESSAGES 4000000u
#define FERRY_HUGE_BLOCK ((size_t)4 << 20)

typedef struct {
    const ProtobufCMessageDescriptor *desc;
    size_t end;
    const ProtobufCFieldDescriptor *via;   /* field of the parent that holds this message */
    unsigned index;                        /* occurrence of `via` within the parent */
    unsigned counts[FERRY_MAX_FIELDS];
} Frame;

/* Reads a varint of at most `max_bytes` bytes at *pos (< end). Returns 0 on success. */
static int read_varint(const uint8_t *data, size_t *pos, size_t end, unsigned max_bytes, uint64_t *out) {
    uint64_t v = 0;
    for (unsigned i = 0; i < max_bytes; i++) {
        if (*pos >= end) return -1;
        uint8_t b = data[(*pos)++];
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) { *out = v; return 0; }
    }
    return -2;
}

/* True when [p, p+n) is valid UTF-8 without NUL bytes (protobuf-c hands strings over as C strings,
 * so a NUL would silently cut them, and Swift would repair invalid UTF-8). */
static int plain_utf8(const uint8_t *p, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint8_t c = p[i];
        if (c == 0) return 0;
        if (c < 0x80) { i++; continue; }
        size_t len; uint32_t min, cp;
        if ((c & 0xE0) == 0xC0) { len = 2; min = 0x80; cp = c & 0x1F; }
        else if ((c & 0xF0) == 0xE0) { len = 3; min = 0x800; cp = c & 0x0F; }
        else if ((c & 0xF8) == 0xF0) { len = 4; min = 0x10000; cp = c & 0x07; }
        else return 0;
        if (i + len > n) return 0;
        for (size_t k = 1; k < len; k++) {
            if ((p[i + k] & 0xC0) != 0x80) return 0;
            cp = cp << 6 | (p[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
        i += len;
    }
    return 1;
}

/* True when [p, p+n) is a sequence of whole varints of at most 10 bytes each. */
static int whole_varints(const uint8_t *p, size_t n) {
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        run++;
        if (run > 10) return 0;
        if (!(p[i] & 0x80)) run = 0;
    }
    return run == 0;
}

static void describe_path(Frame *stack, unsigned depth, const ProtobufCFieldDescriptor *field,
                          uint32_t number, char *err, size_t err_len, size_t *used) {
    size_t n = 0;
    err[0] = 0;
    for (unsigned d = 1; d < depth && n < err_len; d++) {
        /* Deep paths keep their first and last few steps. */
        if (depth > 12 && d == 5) {
            n += snprintf(err + n, err_len - n, ".(%u more levels)", depth - 9);
            d = depth - 5;
        }
        const ProtobufCFieldDescriptor *f = stack[d].via;
        if (f->label == PROTOBUF_C_LABEL_REPEATED)
            n += snprintf(err + n, err_len - n, "%s%s[%u]", n ? "." : "", f->name, stack[d].index);
        else
            n += snprintf(err + n, err_len - n, "%s%s", n ? "." : "", f->name);
    }
    if (n < err_len) {
        if (field)
            n += snprintf(err + n, err_len - n, "%s%s", n ? "." : "", field->name);
        else if (number)
            n += snprintf(err + n, err_len - n, "%sfield %u", n ? "." : "", number);
        else if (n == 0)
            n += snprintf(err + n, err_len - n, "%s", stack[0].desc->short_name);
    }
    *used = n < err_len ? n : err_len - 1;
}

#define FAIL(...) do { \
        size_t used_; \
        describe_path(stack, depth, field, number, err, err_len, &used_); \
        snprintf(err + used_, err_len - used_, ": " __VA_ARGS__); \
        free(stack); \
        return -1; \
    } while (0)

static int is_varint_type(ProtobufCType t) {
    switch (t) {
    case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32: case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_BOOL: case PROTOBUF_C_TYPE_ENUM:
        return 1;
    default:
        return 0;
    }
}

static unsigned fixed_size(ProtobufCType t) {
    switch (t) {
    case PROTOBUF_C_TYPE_FIXED32: case PROTOBUF_C_TYPE_SFIXED32: case PROTOBUF_C_TYPE_FLOAT: return 4;
    case PROTOBUF_C_TYPE_FIXED64: case PROTOBUF_C_TYPE_SFIXED64: case PROTOBUF_C_TYPE_DOUBLE: return 8;
    default: return 0;
    }
}

int ferry_pb_check(const ProtobufCMessageDescriptor *desc, const uint8_t *data, size_t len,
                   unsigned max_depth, char *err, size_t err_len) {
    if (max_depth == 0) max_depth = 1;
    Frame *stack = calloc(max_depth + 1, sizeof(Frame));
    if (!stack) { snprintf(err, err_len, "out of memory"); return -1; }
    unsigned depth = 1;
    stack[0].desc = desc;
    stack[0].end = len;
    size_t pos = 0;
    const ProtobufCFieldDescriptor *field = NULL;
    uint32_t number = 0;
    unsigned messages = 0;

    while (depth > 0) {
        Frame *top = &stack[depth - 1];
        field = NULL;
        number = 0;
        if (pos == top->end) { depth--; continue; }
        size_t tag_at = pos;
        uint64_t tag;
        int rc = read_varint(data, &pos, top->end, 5, &tag);
        if (rc != 0 || tag > 0xffffffffu)
            FAIL("malformed field tag at byte %zu", tag_at);
        number = (uint32_t)(tag >> 3);
        unsigned wire = (unsigned)(tag & 7);
        if (number == 0) FAIL("field number 0 at byte %zu", tag_at);
        field = protobuf_c_message_descriptor_get_field(top->desc, number);
        int repeated = field && field->label == PROTOBUF_C_LABEL_REPEATED;
        uint64_t value;
        switch (wire) {
        case 0:
            if (field && !is_varint_type(field->type))
                FAIL("wire type varint does not fit the field's type (byte %zu)", tag_at);
            if (read_varint(data, &pos, top->end, 10, &value) != 0)
                FAIL("varint runs past the end of its message (byte %zu)", tag_at);
            break;
        case 1:
        case 5: {
            unsigned size = wire == 1 ? 8 : 4;
            if (field && fixed_size(field->type) != size)
                FAIL("wire type fixed%u does not fit the field's type (byte %zu)", size * 8, tag_at);
            if (top->end - pos < size)
                FAIL("fixed-size value runs past the end of its message (byte %zu)", tag_at);
            pos += size;
            break;
        }
        case 2: {
            /* libprotobuf-c reads length prefixes of at most 5 bytes, below 2^32. */
            if (read_varint(data, &pos, top->end, 5, &value) != 0 || value > 0xffffffffu)
                FAIL("malformed or oversized length prefix (byte %zu)", tag_at);
            if (value > top->end - pos)
                FAIL("length %llu runs past the end of its message (%zu bytes left, byte %zu)",
                     (unsigned long long)value, top->end - pos, tag_at);
            size_t payload_end = pos + (size_t)value;
            if (field && field->type == PROTOBUF_C_TYPE_MESSAGE) {
                if (depth > max_depth)
                    FAIL("message nesting deeper than %u levels", max_depth);
                if (++messages > FERRY_MAX_MESSAGES)
                    FAIL("more than %u messages; refusing (real models hold far fewer)", FERRY_MAX_MESSAGES);
                size_t slot = (size_t)(field - top->desc->fields);
                unsigned index = slot < FERRY_MAX_FIELDS ? top->counts[slot]++ : 0;
                Frame *child = &stack[depth++];
                memset(child, 0, sizeof *child);
                child->desc = field->descriptor;
                child->end = payload_end;
                child->via = field;
                child->index = index;
                continue;   /* parse the payload as the child message */
            }
            if (field && field->type == PROTOBUF_C_TYPE_STRING && !plain_utf8(data + pos, (size_t)value))
                FAIL("string is not valid UTF-8 or contains a NUL byte (byte %zu)", tag_at);
            if (field && field->type != PROTOBUF_C_TYPE_STRING && field->type != PROTOBUF_C_TYPE_BYTES) {
                if (!repeated)
                    FAIL("length-delimited value for a scalar field (byte %zu)", tag_at);
                unsigned size = fixed_size(field->type);
                if (size && value % size != 0)
                    FAIL("packed array of %llu bytes is not a whole number of %u-byte values",
                         (unsigned long long)value, size);
                if (!size && !whole_varints(data + pos, (size_t)value))
                    FAIL("packed varint array holds a malformed varint");
            }
            pos = payload_end;
            break;
        }
        case 3:
        case 4:
            FAIL("groups are not supported (byte %zu)", tag_at);
        default:
            FAIL("invalid wire type %u (byte %zu)", wire, tag_at);
        }
    }
    free(stack);
    return 0;
}

size_t ferry_pb_find_field(const uint8_t *data, size_t len, uint32_t number,
                           FerryFieldSpan *spans, size_t cap) {
    size_t pos = 0, found = 0;
    while (pos < len) {
        size_t start = pos;
        uint64_t tag, value;
        if (read_varint(data, &pos, len, 5, &tag) != 0) break;
        switch (tag & 7) {
        case 0: if (read_varint(data, &pos, len, 10, &value) != 0) return found; break;
        case 1: pos += 8; break;
        case 5: pos += 4; break;
        case 2:
            if (read_varint(data, &pos, len, 10, &value) != 0 || value > len - pos) return found;
            if ((tag >> 3) == number) {
                if (found < cap) {
                    spans[found].record_start = start;
                    spans[found].payload_start = pos;
                    spans[found].payload_end = pos + (size_t)value;
                }
                found++;
            }
            pos += (size_t)value;
            break;
        default: return found;
        }
    }
    return found;
}

static void *aligned_alloc_block(void *unused, size_t size) {
    (void)unused;
    if (size < 256) return malloc(size ? size : 1);
    void *p = NULL;
    if (size >= FERRY_HUGE_BLOCK) {
        /* Large payloads: 2 MiB aligned and marked for transparent huge pages, so filling them
         * takes one page fault per 2 MiB instead of one per 4 KiB. */
        if (posix_memalign(&p, 2u << 20, size) != 0) return NULL;
#ifdef MADV_HUGEPAGE
        madvise(p, size, MADV_HUGEPAGE);
#endif
        return p;
    }
    return posix_memalign(&p, 64, size) == 0 ? p : NULL;
}

static void free_block(void *unused, void *p) {
    (void)unused;
    free(p);
}

ProtobufCAllocator ferry_aligned_allocator = { aligned_alloc_block, free_block, NULL };

static void write_all(FerryFdBuffer *b, const uint8_t *p, size_t n) {
    while (n > 0 && !b->error) {
        ssize_t w = write(b->fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            b->error = errno;
            return;
        }
        p += w;
        n -= (size_t)w;
    }
}

static void fd_buffer_append(ProtobufCBuffer *base, size_t len, const uint8_t *data) {
    FerryFdBuffer *b = (FerryFdBuffer *)base;
    b->written += len;
    if (b->error) return;
    /* Staged bytes always go out first: a large payload is written after them, in order. */
    int wrote = 0;
    if (len >= b->capacity / 2 || len > b->capacity - b->used) {
        write_all(b, b->staging, b->used);
        b->used = 0;
        wrote = 1;
    }
    if (len >= b->capacity / 2) {
        write_all(b, data, len);
        wrote = 1;
    } else if (len > 0) { /* an empty payload may come with a null pointer */
        memcpy(b->staging + b->used, data, len);
        b->used += len;
    }
    if (wrote && b->on_write) b->on_write(b->context, b->written);
}

int ferry_fd_buffer_init(FerryFdBuffer *b, int fd, size_t capacity) {
    memset(b, 0, sizeof *b);
    b->base.append = fd_buffer_append;
    b->fd = fd;
    b->capacity = capacity;
    b->staging = malloc(capacity);
    return b->staging ? 0 : -1;
}

int ferry_fd_buffer_finish(FerryFdBuffer *b) {
    if (!b->error) write_all(b, b->staging, b->used);
    b->used = 0;
    free(b->staging);
    b->staging = NULL;
    return b->error;
}

const ProtobufCMessageDescriptor *ferry_onnx_model_descriptor(void) {
    return &onnx__model_proto__descriptor;
}

const ProtobufCMessageDescriptor *ferry_onnx_tensor_descriptor(void) {
    return &onnx__tensor_proto__descriptor;
}
