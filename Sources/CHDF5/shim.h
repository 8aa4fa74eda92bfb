/* Ferry's shim over libhdf5: its type and property constants are macros that Swift cannot
 * import, and a few calls differ between HDF5 1.10 and 1.12+. Everything here is static inline. */
#ifndef FERRY_CHDF5_SHIM_H
#define FERRY_CHDF5_SHIM_H

#include <hdf5.h>
#include <hdf5_hl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <spawn.h>

/* Makes a spawned process start with no descriptors from `first` up (glibc >= 2.34 has the call but
 * does not declare it without _GNU_SOURCE). A descriptor a spawned process inherits keeps its file's
 * lock: libhdf5 locks the files it opens (and opens them without close-on-exec). Returns -1 when
 * the C library lacks the call. */
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
extern int posix_spawn_file_actions_addclosefrom_np(posix_spawn_file_actions_t *actions, int from);
static inline int ferry_spawn_close_from(posix_spawn_file_actions_t *actions, int first) {
    return posix_spawn_file_actions_addclosefrom_np(actions, first);
}
#else
static inline int ferry_spawn_close_from(posix_spawn_file_actions_t *actions, int first) {
    (void)actions; (void)first;
    return -1;
}
#endif

static inline hid_t ferry_h5p_default(void) { return H5P_DEFAULT; }
static inline hid_t ferry_h5s_all(void) { return H5S_ALL; }
static inline hid_t ferry_h5e_default(void) { return H5E_DEFAULT; }
static inline unsigned ferry_h5f_acc_rdonly(void) { return H5F_ACC_RDONLY; }
static inline unsigned ferry_h5f_acc_trunc(void) { return H5F_ACC_TRUNC; }
/* Opens an in-memory file image read-only without copying it: the caller keeps `image` alive and
 * unchanged until the file is closed. */
static inline hid_t ferry_h5_open_image(void *image, size_t size) {
    return H5LTopen_file_image(image, size, H5LT_FILE_IMAGE_DONT_COPY | H5LT_FILE_IMAGE_DONT_RELEASE);
}
static inline hid_t ferry_h5p_file_access(void) { return H5P_FILE_ACCESS; }
static inline hid_t ferry_h5p_dataset_create(void) { return H5P_DATASET_CREATE; }
static inline hid_t ferry_h5p_dataset_access(void) { return H5P_DATASET_ACCESS; }
static inline hid_t ferry_h5p_group_access(void) { return H5P_GROUP_ACCESS; }
static inline hid_t ferry_h5p_link_access(void) { return H5P_LINK_ACCESS; }

static inline hid_t ferry_h5t_native_int8(void) { return H5T_NATIVE_INT8; }
static inline hid_t ferry_h5t_native_uint8(void) { return H5T_NATIVE_UINT8; }
static inline hid_t ferry_h5t_native_int16(void) { return H5T_NATIVE_INT16; }
static inline hid_t ferry_h5t_native_uint16(void) { return H5T_NATIVE_UINT16; }
static inline hid_t ferry_h5t_native_int32(void) { return H5T_NATIVE_INT32; }
static inline hid_t ferry_h5t_native_uint32(void) { return H5T_NATIVE_UINT32; }
static inline hid_t ferry_h5t_native_int64(void) { return H5T_NATIVE_INT64; }
static inline hid_t ferry_h5t_native_uint64(void) { return H5T_NATIVE_UINT64; }
static inline hid_t ferry_h5t_native_float(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t ferry_h5t_native_double(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t ferry_h5t_ieee_f32le(void) { return H5T_IEEE_F32LE; }
static inline hid_t ferry_h5t_c_s1(void) { return H5T_C_S1; }
static inline size_t ferry_h5t_variable(void) { return H5T_VARIABLE; }
static inline haddr_t ferry_haddr_undef(void) { return HADDR_UNDEF; }

/* Switches libhdf5's automatic error printing off for the calling thread, once per thread: a
 * thread-safe libhdf5 keeps that setting per thread, so switching it off once at start-up leaves
 * every other thread printing the library's error stack to stderr. */
static inline void ferry_h5_quiet_thread(void) {
    static _Thread_local int quiet = 0;
    if (!quiet) {
        H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
        quiet = 1;
    }
}

/* A little-endian IEEE half-precision type, laid out as numpy's float16 (the type h5py writes).
 * The caller closes it. */
static inline hid_t ferry_h5t_float16(void) {
    hid_t t = H5Tcopy(H5T_IEEE_F32LE);
    if (t < 0) return t;
    if (H5Tset_fields(t, 15, 10, 5, 0, 10) < 0 || H5Tset_size(t, 2) < 0 || H5Tset_ebias(t, 15) < 0) {
        H5Tclose(t);
        return -1;
    }
    return t;
}

/* An identity for the object `obj`: its address mixed with its file's number, so objects reached
 * twice (hard links, loops) have one key and objects of different files differ. */
static inline int ferry_h5_object_key(hid_t obj, uint64_t *key) {
    uint64_t k = 1469598103934665603ull;
#if H5_VERSION_GE(1, 12, 0)
    H5O_info2_t info;
    if (H5Oget_info3(obj, &info, H5O_INFO_BASIC) < 0) return -1;
    for (size_t i = 0; i < sizeof info.token.__data; i++) { k ^= info.token.__data[i]; k *= 1099511628211ull; }
#else
    H5O_info_t info;
    if (H5Oget_info2(obj, &info, H5O_INFO_BASIC) < 0) return -1;
    k = (k ^ (uint64_t)info.addr) * 1099511628211ull;
#endif
    *key = (k ^ (uint64_t)info.fileno) * 1099511628211ull;
    return 0;
}

/* A link's kind: 0 hard, 1 soft, 64 external, -1 error; for hard links also the object type
 * (H5O_TYPE_GROUP, H5O_TYPE_DATASET, ...) in *object_type. */
static inline int ferry_h5_link_kind(hid_t group, const char *name, int *object_type) {
    H5L_info_t info;
    *object_type = -1;
    if (H5Lget_info(group, name, &info, H5P_DEFAULT) < 0) return -1;
    if (info.type == H5L_TYPE_HARD) {
        H5O_info_t oinfo;
#if H5_VERSION_GE(1, 12, 0)
        if (H5Oget_info_by_name3(group, name, &oinfo, H5O_INFO_BASIC, H5P_DEFAULT) >= 0) *object_type = oinfo.type;
#else
        if (H5Oget_info_by_name2(group, name, &oinfo, H5O_INFO_BASIC, H5P_DEFAULT) >= 0) *object_type = oinfo.type;
#endif
        return 0;
    }
    return info.type == H5L_TYPE_SOFT ? 1 : (info.type == H5L_TYPE_EXTERNAL ? 64 : 2);
}

/* Calls `visit(name, context)` for every link of `group` in name order, in one pass over the
 * group (H5Literate): listing by index instead walks the group's index from its start for every
 * member. A non-zero return from `visit` stops the walk. Returns a negative value on failure. */
typedef int (*ferry_h5_member_visit)(const char *name, void *context);
typedef struct { ferry_h5_member_visit visit; void *context; } FerryH5MemberWalk;

#if H5_VERSION_GE(1, 12, 0)
static inline herr_t ferry_h5_member_step(hid_t group, const char *name, const H5L_info2_t *info, void *data) {
#else
static inline herr_t ferry_h5_member_step(hid_t group, const char *name, const H5L_info_t *info, void *data) {
#endif
    (void)group; (void)info;
    FerryH5MemberWalk *walk = (FerryH5MemberWalk *)data;
    return walk->visit(name, walk->context) ? 1 : 0;
}

static inline int ferry_h5_list_members(hid_t group, ferry_h5_member_visit visit, void *context) {
    FerryH5MemberWalk walk = { visit, context };
    hsize_t index = 0;
#if H5_VERSION_GE(1, 12, 0)
    return H5Literate2(group, H5_INDEX_NAME, H5_ITER_INC, &index, ferry_h5_member_step, &walk) < 0 ? -1 : 0;
#else
    return H5Literate(group, H5_INDEX_NAME, H5_ITER_INC, &index, ferry_h5_member_step, &walk) < 0 ? -1 : 0;
#endif
}

/* The file an external link `name` in `group` points to, into `out` (empty on failure). */
static inline void ferry_h5_elink_file(hid_t group, const char *name, char *out, size_t cap) {
    H5L_info_t info;
    out[0] = 0;
    if (H5Lget_info(group, name, &info, H5P_DEFAULT) < 0 || info.type != H5L_TYPE_EXTERNAL) return;
    size_t size = info.u.val_size;
    char *buf = (char *)malloc(size ? size : 1);
    if (!buf) return;
    const char *file = NULL, *object = NULL;
    if (H5Lget_val(group, name, buf, size, H5P_DEFAULT) >= 0 &&
        H5Lunpack_elink_val(buf, size, NULL, &file, &object) >= 0 && file) {
        strncpy(out, file, cap - 1);
        out[cap - 1] = 0;
    }
    free(buf);
}

/* The file of external storage entry `index` of a dataset creation list, into `out`. */
static inline void ferry_h5_external_file(hid_t dcpl, unsigned index, char *out, size_t cap) {
    off_t offset; hsize_t size;
    out[0] = 0;
    if (H5Pget_external(dcpl, index, cap, out, &offset, &size) < 0) out[0] = 0;
    out[cap - 1] = 0;
}

/* Refuses to traverse external links (installed on the link access lists Ferry opens with). */
static inline herr_t ferry_h5_refuse_external_link(const char *parent_file, const char *parent_group,
                                                   const char *child_file, const char *child_object,
                                                   unsigned *acc_flags, hid_t fapl, void *op_data) {
    (void)parent_file; (void)parent_group; (void)child_file; (void)child_object;
    (void)acc_flags; (void)fapl; (void)op_data;
    return -1;
}

static inline herr_t ferry_h5_forbid_external_links(hid_t lapl) {
    return H5Pset_elink_cb(lapl, ferry_h5_refuse_external_link, NULL);
}

/* Collects the innermost messages of the current error stack into `out`, "; "-separated. */
typedef struct { char *out; size_t cap; size_t used; unsigned count; } FerryH5ErrorText;

static inline herr_t ferry_h5_error_walk(unsigned n, const H5E_error2_t *err, void *data) {
    FerryH5ErrorText *t = (FerryH5ErrorText *)data;
    (void)n;
    if (!err->desc || t->count >= 2 || t->used + 3 >= t->cap) return 0;
    size_t len = strlen(err->desc);
    if (len == 0) return 0;
    if (t->used) { memcpy(t->out + t->used, "; ", 2); t->used += 2; }
    if (len > t->cap - t->used - 1) len = t->cap - t->used - 1;
    memcpy(t->out + t->used, err->desc, len);
    t->used += len;
    t->out[t->used] = 0;
    t->count++;
    return 0;
}

static inline void ferry_h5_error_text(char *out, size_t cap) {
    FerryH5ErrorText t = { out, cap, 0, 0 };
    if (cap) out[0] = 0;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, ferry_h5_error_walk, &t);
    H5Eclear2(H5E_DEFAULT);
}

#endif
