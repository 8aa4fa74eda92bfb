/* Ferry's hand-written helpers around libprotobuf-c (not generated). */
#ifndef FERRY_WIRE_H
#define FERRY_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <protobuf-c/protobuf-c.h>

/* Checks that `data` is a well-formed encoding of message `desc`: every tag, varint and length
 * stays inside its enclosing message, wire types agree with the schema, string fields are valid
 * UTF-8 without NUL bytes, there are at most 4,000,000 messages, and messages nest at most
 * `max_depth` deep (libprotobuf-c itself recurses without a limit). Returns 0 when well formed;
 * otherwise writes a one-line reason naming the field path (e.g. "graph.node[2].attribute[0]: ...")
 * into `err` and returns -1. */
int ferry_pb_check(const ProtobufCMessageDescriptor *desc, const uint8_t *data, size_t len,
                   unsigned max_depth, char *err, size_t err_len);

/* The descriptor of onnx.ModelProto (Swift cannot take the address of the C constant). */
const ProtobufCMessageDescriptor *ferry_onnx_model_descriptor(void);
/* The descriptor of onnx.TensorProto (standalone tensor files such as test data). */
const ProtobufCMessageDescriptor *ferry_onnx_tensor_descriptor(void);

/* One occurrence of a length-delimited field: [record_start, payload_start) is its tag and length
 * prefix, [payload_start, payload_end) its payload. */
typedef struct {
    size_t record_start;
    size_t payload_start;
    size_t payload_end;
} FerryFieldSpan;

/* Lists the occurrences of length-delimited field `number` directly inside an already checked
 * message encoding. Writes at most `cap` spans and returns how many there are in all. */
size_t ferry_pb_find_field(const uint8_t *data, size_t len, uint32_t number,
                           FerryFieldSpan *spans, size_t cap);

/* Allocator for unpacking: blocks of 256 bytes or more are 64-byte aligned. Every block may be
 * released with free(), so tensor payloads can be adopted without copying. */
extern ProtobufCAllocator ferry_aligned_allocator;

/* A ProtobufCBuffer that streams packed bytes to a file descriptor through a staging buffer;
 * large appends (tensor payloads) are written straight from the caller's memory. */
typedef struct {
    ProtobufCBuffer base;
    int fd;
    uint8_t *staging;
    size_t used;
    size_t capacity;
    int error;          /* errno of the first failed write, else 0 */
    uint64_t written;   /* bytes accepted so far */
    /* Called after each write to the file (every `capacity` bytes or so), with the bytes accepted
     * so far; NULL: not called. */
    void (*on_write)(void *context, uint64_t written);
    void *context;
} FerryFdBuffer;

/* Prepares `b` to write to `fd`; returns -1 if the staging buffer cannot be allocated. */
int ferry_fd_buffer_init(FerryFdBuffer *b, int fd, size_t capacity);

/* Flushes staged bytes and releases the staging buffer; returns 0 or the errno of a failure. */
int ferry_fd_buffer_finish(FerryFdBuffer *b);

#endif
