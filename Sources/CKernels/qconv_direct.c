/* Ferry's direct int8 convolution (see ferry_kernels.h): no im2col. The input is copied once into a
 * channels-last layout (each pixel's channels contiguous, padded to a multiple of 4, then one row of
 * zero points that padding taps read), so the 4 channels of one pixel that a vpdpbusd lane consumes
 * are one 32-bit broadcast straight from the input. Output channels run along the vector lanes: the
 * weights are packed once, in blocks of 32 output channels, as [tap][channel quad][32][4] int8 (two
 * 512-bit loads per quad), with each channel's weight sum kept for the zero point correction
 * sum (x - z) w = sum x w - z * sum w. A tile is 8 output pixels by 32 output channels (16
 * accumulators); the pixels' input addresses for every tap come from a small table built per chunk
 * of pixels (padding taps point at the zero point row), so tiles may span output rows. The tile is
 * requantized in registers exactly as ferry_requantize does, transposed to 32 channels of 8 bytes,
 * and stored straight into the channels-first output. */
#include "ferry_kernels.h"
#include "cpu.h"
#include <string.h>

enum {
    TILE_PIXELS = 8,
    BLOCK_CHANNELS = 32,
    CHUNK_PIXELS = 64,              /* pixels whose tap addresses are tabled at once */
    WEIGHT_BUDGET = 256 * 1024      /* bytes of packed weights a run of channel blocks keeps in cache */
};

static inline size_t channel_quads(size_t c) { return (c + 3) / 4; }
static inline size_t channel_blocks(size_t m) { return (m + BLOCK_CHANNELS - 1) / BLOCK_CHANNELS; }
static inline size_t block_bytes(size_t c, size_t taps) { return taps * channel_quads(c) * 4 * BLOCK_CHANNELS; }
/* The weight sums start after the blocks, 64-byte aligned. */
static inline size_t sums_offset(size_t m, size_t c, size_t taps) { return (channel_blocks(m) * block_bytes(c, taps) + 63) / 64 * 64; }

int ferry_qconv_direct_available(void) { return ferry_has_vnni(); }

size_t ferry_qconv_direct_packed_w_size(size_t m, size_t c, size_t taps) {
    return sums_offset(m, c, taps) + channel_blocks(m) * BLOCK_CHANNELS * sizeof(int32_t);
}

void ferry_qconv_direct_pack_w(const int8_t *w, size_t m, size_t c, size_t taps, void *packed) {
    const size_t quads = channel_quads(c), bb = block_bytes(c, taps);
    int32_t *sums = (int32_t *)((uint8_t *)packed + sums_offset(m, c, taps));
    for (size_t b = 0; b < channel_blocks(m); b++) {
        int8_t *dst = (int8_t *)packed + b * bb;
        for (size_t j = 0; j < BLOCK_CHANNELS; j++) {
            const size_t oc = b * BLOCK_CHANNELS + j;
            int32_t sum = 0;
            for (size_t t = 0; t < taps; t++)
                for (size_t ic = 0; ic < quads * 4; ic++) {
                    const int8_t v = oc < m && ic < c ? w[(oc * c + ic) * taps + t] : 0;
                    dst[((t * quads + ic / 4) * BLOCK_CHANNELS + j) * 4 + ic % 4] = v;
                    sum += v;
                }
            sums[oc] = sum;
        }
    }
}

size_t ferry_qconv_direct_input_size(size_t c, size_t plane) { return (plane + 1) * channel_quads(c) * 4; }

#if FERRY_X86
/* 16 channels (rows[t] + p, int8 ones shifted by xor-ing f) of 16 pixels transposed into 16-byte
 * runs of the channels-last rows: pairs, quads, octets, then all 16 channels of each pixel. */
static inline void store_sixteen(const uint8_t *const rows[16], size_t p, __m128i f, uint8_t *dst, size_t stride) {
    __m128i a[16], b[16];
    for (size_t i = 0; i < 16; i++) a[i] = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(rows[i] + p)), f);
    for (size_t i = 0; i < 8; i++) { /* b[2i]: pixels 0-7, b[2i+1]: 8-15, of channels 2i, 2i + 1 */
        b[2 * i] = _mm_unpacklo_epi8(a[2 * i], a[2 * i + 1]);
        b[2 * i + 1] = _mm_unpackhi_epi8(a[2 * i], a[2 * i + 1]);
    }
    for (size_t i = 0; i < 4; i++) { /* a[4i + j]: pixels 4j to 4j + 3 of channels 4i to 4i + 3 */
        a[4 * i] = _mm_unpacklo_epi16(b[4 * i], b[4 * i + 2]);
        a[4 * i + 1] = _mm_unpackhi_epi16(b[4 * i], b[4 * i + 2]);
        a[4 * i + 2] = _mm_unpacklo_epi16(b[4 * i + 1], b[4 * i + 3]);
        a[4 * i + 3] = _mm_unpackhi_epi16(b[4 * i + 1], b[4 * i + 3]);
    }
    for (size_t i = 0; i < 2; i++) /* b[8i + 2j (+1)]: pixels 2j, 2j + 1 (2j + 2, 2j + 3) of channels 8i to 8i + 7 */
        for (size_t j = 0; j < 4; j++) {
            b[8 * i + 2 * j] = _mm_unpacklo_epi32(a[8 * i + j], a[8 * i + 4 + j]);
            b[8 * i + 2 * j + 1] = _mm_unpackhi_epi32(a[8 * i + j], a[8 * i + 4 + j]);
        }
    for (size_t j = 0; j < 8; j++) { /* pixel 2j, then 2j + 1: all 16 channels */
        _mm_storeu_si128((__m128i *)(dst + (p + 2 * j) * stride), _mm_unpacklo_epi64(b[j], b[8 + j]));
        _mm_storeu_si128((__m128i *)(dst + (p + 2 * j + 1) * stride), _mm_unpackhi_epi64(b[j], b[8 + j]));
    }
}
#endif

/* Channels [ch, ch + 4) (rows[t], int8 ones shifted by xor-ing flip, missing ones the zero point) of
 * pixels [p, p1) into their 32-bit slots of the channels-last rows. */
static void store_quads(const uint8_t *const rows[4], uint8_t flip, uint8_t zp, size_t p, size_t p1, uint8_t *dst,
                        size_t stride) {
    for (; p < p1; p++) {
        uint8_t quad[4];
        for (size_t t = 0; t < 4; t++) quad[t] = rows[t] ? (uint8_t)(rows[t][p] ^ flip) : zp;
        memcpy(dst + p * stride, quad, 4);
    }
}

void ferry_qconv_direct_channels_last(const void *x, int x_signed, int32_t zero_point, size_t c, size_t plane,
                                      size_t p_begin, size_t p_end, void *out) {
    const size_t stride = channel_quads(c) * 4;
    /* pixels per pass over all channels: their channels-last rows (about 16 KB) stay in L1 */
    size_t block = 16384 / stride / 16 * 16;
    block = block < 16 ? 16 : block;
    const uint8_t flip = x_signed ? 0x80 : 0; /* int8 shifted by 128 into uint8 */
    const uint8_t zp = (uint8_t)((uint32_t)zero_point ^ flip);
    const uint8_t *src = x;
    uint8_t *dst = out;
    for (size_t p0 = p_begin; p0 < p_end; p0 += block) {
        const size_t p1 = p_end - p0 < block ? p_end : p0 + block;
        size_t ch = 0;
#if FERRY_X86
        const __m128i f = _mm_set1_epi8((char)flip);
        for (; ch + 16 <= c; ch += 16) {
            const uint8_t *rows[16];
            for (size_t t = 0; t < 16; t++) rows[t] = src + (ch + t) * plane;
            size_t p = p0;
            for (; p + 16 <= p1; p += 16) {
                if (p % 64 == 0 && p + block < plane) /* the next block's lines of these rows, ahead of time */
                    for (size_t t = 0; t < 16; t++) _mm_prefetch((const char *)(rows[t] + p + block), _MM_HINT_T0);
                store_sixteen(rows, p, f, dst + ch, stride);
            }
            for (size_t q = 0; q < 16; q += 4) store_quads(rows + q, flip, zp, p, p1, dst + ch + q, stride);
        }
#endif
        for (; ch < stride; ch += 4) {
            const uint8_t *rows[4];
            for (size_t t = 0; t < 4; t++) rows[t] = ch + t < c ? src + (ch + t) * plane : NULL;
            store_quads(rows, flip, zp, p0, p1, dst + ch, stride);
        }
    }
    if (p_end == plane) memset(dst + plane * stride, zp, stride);
}

#if FERRY_X86

/* What a tile needs besides its inputs: the block's output pass and where it writes. */
typedef struct {
    __m512i adjust[2];   /* bias - z * weight sum, per output channel */
    __m512 scale[2];
    __m512 lo, hi;       /* qmin - zero point, qmax - zero point */
    __m512i zero_point;
} block_pass;

/* Requantizes 8 pixels x 32 channels into a channels-first staging area: channel j's 8 bytes at
 * out + j * ld. */
FERRY_VNNI512_ATTR static void store_tile(const __m512i acc[TILE_PIXELS][2], const block_pass *bp, uint8_t *out, size_t ld) {
    __m256i rows[TILE_PIXELS];
    for (size_t i = 0; i < TILE_PIXELS; i++) {
        __m128i half[2];
        for (size_t h = 0; h < 2; h++) {
            __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(acc[i][h], bp->adjust[h])), bp->scale[h]);
            v = _mm512_min_ps(_mm512_max_ps(v, bp->lo), bp->hi);
            /* rounds half to even under the default MXCSR; the values fit the output type, so
             * keeping the low byte of each lane gives the uint8 or int8 value */
            half[h] = _mm512_cvtepi32_epi8(_mm512_add_epi32(_mm512_cvtps_epi32(v), bp->zero_point));
        }
        rows[i] = _mm256_inserti128_si256(_mm256_castsi128_si256(half[0]), half[1], 1);
    }
    /* 8 x 32 bytes to 32 x 8 within each 128-bit lane: pairs, quads, then octets of pixels */
    __m256i a[8], b[8], t[8];
    for (size_t i = 0; i < 4; i++) {
        a[2 * i] = _mm256_unpacklo_epi8(rows[2 * i], rows[2 * i + 1]);
        a[2 * i + 1] = _mm256_unpackhi_epi8(rows[2 * i], rows[2 * i + 1]);
    }
    for (size_t i = 0; i < 2; i++)
        for (size_t h = 0; h < 2; h++) {
            b[4 * i + 2 * h] = _mm256_unpacklo_epi16(a[4 * i + h], a[4 * i + 2 + h]);
            b[4 * i + 2 * h + 1] = _mm256_unpackhi_epi16(a[4 * i + h], a[4 * i + 2 + h]);
        }
    for (size_t i = 0; i < 4; i++) {
        t[2 * i] = _mm256_unpacklo_epi32(b[i], b[4 + i]);
        t[2 * i + 1] = _mm256_unpackhi_epi32(b[i], b[4 + i]);
    }
    /* t[k] holds channels 2k, 2k + 1 (low lane) and 16 + 2k, 17 + 2k (high lane), 8 pixels each */
    uint64_t octets[BLOCK_CHANNELS];
    for (size_t k = 0; k < 8; k++) {
        _mm_storeu_si128((__m128i *)(octets + 2 * k), _mm256_castsi256_si128(t[k]));
        _mm_storeu_si128((__m128i *)(octets + 16 + 2 * k), _mm256_extracti128_si256(t[k], 1));
    }
    for (size_t j = 0; j < BLOCK_CHANNELS; j++) memcpy(out + j * ld, octets + j, TILE_PIXELS);
}

/* One tile: 8 pixels (their tap addresses, [tap][8]) by one block of packed weights. The sums are
 * kept in locals (the byte loads could alias an output array) and copied out at the end. */
FERRY_VNNI512_ATTR __attribute__((always_inline)) static inline void direct_tile(size_t taps, size_t quads,
                                                                               const uint8_t *const *addr, const int8_t *wp,
                                                                               __m512i out[TILE_PIXELS][2]) {
    __m512i acc[TILE_PIXELS][2];
    for (size_t i = 0; i < TILE_PIXELS; i++) acc[i][0] = acc[i][1] = _mm512_setzero_si512();
    for (size_t t = 0; t < taps; t++, addr += TILE_PIXELS) {
        const uint8_t *x[TILE_PIXELS];
        for (size_t i = 0; i < TILE_PIXELS; i++) x[i] = addr[i];
        for (size_t q = 0; q < quads; q++) {
            const __m512i w0 = _mm512_loadu_si512((const void *)wp), w1 = _mm512_loadu_si512((const void *)(wp + 64));
            wp += 4 * BLOCK_CHANNELS;
            _Pragma("GCC unroll 8")
            for (size_t i = 0; i < TILE_PIXELS; i++) {
                int32_t quad;
                memcpy(&quad, x[i] + 4 * q, sizeof quad);
                const __m512i v = _mm512_set1_epi32(quad);
                acc[i][0] = _mm512_dpbusd_epi32(acc[i][0], v, w0);
                acc[i][1] = _mm512_dpbusd_epi32(acc[i][1], v, w1);
            }
        }
    }
    for (size_t i = 0; i < TILE_PIXELS; i++) {
        out[i][0] = acc[i][0];
        out[i][1] = acc[i][1];
    }
}

/* The tap addresses of pixels [p0, p0 + count) into addr ([tile][tap][pixel]; pixels past count
 * repeat the last one, padding taps point at pad_row). An interior pixel's taps are its first tap's
 * address plus fixed offsets. */
static void tap_addresses(const uint8_t *x, const uint8_t *pad_row, size_t stride, size_t h, size_t w, size_t kh,
                          size_t kw, size_t sh, size_t sw, size_t dh, size_t dw, size_t pt, size_t pl, size_t ow,
                          const ptrdiff_t *offsets, size_t p0, size_t count, size_t padded, const uint8_t **addr) {
    const size_t taps = kh * kw;
    size_t oy = p0 / ow, ox = p0 % ow;
    for (size_t i = 0; i < padded; i++) {
        const ptrdiff_t iy0 = (ptrdiff_t)(oy * sh) - (ptrdiff_t)pt, ix0 = (ptrdiff_t)(ox * sw) - (ptrdiff_t)pl;
        const uint8_t **row = addr + (i / TILE_PIXELS) * taps * TILE_PIXELS + i % TILE_PIXELS;
        if (iy0 >= 0 && iy0 + (ptrdiff_t)((kh - 1) * dh) < (ptrdiff_t)h && ix0 >= 0 && ix0 + (ptrdiff_t)((kw - 1) * dw) < (ptrdiff_t)w) {
            const uint8_t *base = x + ((size_t)iy0 * w + (size_t)ix0) * stride;
            for (size_t t = 0; t < taps; t++) row[t * TILE_PIXELS] = base + offsets[t];
        } else {
            for (size_t ky = 0; ky < kh; ky++) {
                const ptrdiff_t iy = iy0 + (ptrdiff_t)(ky * dh);
                for (size_t kx = 0; kx < kw; kx++) {
                    const ptrdiff_t ix = ix0 + (ptrdiff_t)(kx * dw);
                    const int inside = iy >= 0 && iy < (ptrdiff_t)h && ix >= 0 && ix < (ptrdiff_t)w;
                    row[(ky * kw + kx) * TILE_PIXELS] = inside ? x + ((size_t)iy * w + (size_t)ix) * stride : pad_row;
                }
            }
        }
        if (i + 1 < count && ++ox == ow) {
            ox = 0;
            oy++;
        }
    }
}

FERRY_VNNI512_ATTR static void direct_conv(const void *packed_w, size_t m, size_t c, const uint8_t *x, int32_t zp,
                                           size_t h, size_t w, size_t kh, size_t kw, size_t sh, size_t sw, size_t dh,
                                           size_t dw, size_t pt, size_t pl, size_t ow, size_t plane, size_t p_begin,
                                           size_t p_end, const int32_t *bias, const float *scale, int32_t zero_point,
                                           int32_t qmin, int32_t qmax, uint8_t *y) {
    const size_t taps = kh * kw, quads = channel_quads(c), stride = quads * 4, bb = block_bytes(c, taps);
    const size_t blocks = channel_blocks(m);
    const int32_t *sums = (const int32_t *)((const uint8_t *)packed_w + sums_offset(m, c, taps));
    const uint8_t *pad_row = x + h * w * stride;
    const size_t run = bb >= WEIGHT_BUDGET ? 1 : WEIGHT_BUDGET / bb;
    ptrdiff_t offsets[taps];
    for (size_t t = 0; t < taps; t++) offsets[t] = (ptrdiff_t)(((t / kw) * dh * w + (t % kw) * dw) * stride);
    /* tap addresses of one chunk ([tile][tap][pixel]), and its requantized output ([channel][pixel]),
     * copied to the output rows once per chunk */
    const uint8_t *addr[CHUNK_PIXELS * taps];
    uint8_t staged[BLOCK_CHANNELS * CHUNK_PIXELS] __attribute__((aligned(64)));
    block_pass pass;
    pass.lo = _mm512_set1_ps((float)(qmin - zero_point));
    pass.hi = _mm512_set1_ps((float)(qmax - zero_point));
    pass.zero_point = _mm512_set1_epi32(zero_point);
    for (size_t b0 = 0; b0 < blocks; b0 += run) {
        const size_t b1 = blocks - b0 < run ? blocks : b0 + run;
        for (size_t p0 = p_begin; p0 < p_end; p0 += CHUNK_PIXELS) {
            const size_t count = p_end - p0 < CHUNK_PIXELS ? p_end - p0 : CHUNK_PIXELS;
            const size_t tiles = (count + TILE_PIXELS - 1) / TILE_PIXELS;
            tap_addresses(x, pad_row, stride, h, w, kh, kw, sh, sw, dh, dw, pt, pl, ow, offsets, p0, count,
                          tiles * TILE_PIXELS, addr);
            for (size_t b = b0; b < b1; b++) {
                const size_t ch0 = b * BLOCK_CHANNELS, channels = m - ch0 < BLOCK_CHANNELS ? m - ch0 : BLOCK_CHANNELS;
                for (size_t hh = 0; hh < 2; hh++) {
                    const size_t lo = hh * 16, n = channels > lo ? (channels - lo < 16 ? channels - lo : 16) : 0;
                    const __mmask16 valid = (__mmask16)((1u << n) - 1);
                    const __m512i s = _mm512_loadu_si512((const void *)(sums + ch0 + lo));
                    const __m512i bv = bias ? _mm512_maskz_loadu_epi32(valid, bias + ch0 + lo) : _mm512_setzero_si512();
                    pass.adjust[hh] = _mm512_sub_epi32(bv, _mm512_mullo_epi32(s, _mm512_set1_epi32(zp)));
                    pass.scale[hh] = _mm512_maskz_loadu_ps(valid, scale + ch0 + lo);
                }
                for (size_t tile = 0; tile < tiles; tile++) {
                    __m512i acc[TILE_PIXELS][2];
                    direct_tile(taps, quads, addr + tile * taps * TILE_PIXELS, (const int8_t *)packed_w + b * bb, acc);
                    store_tile(acc, &pass, staged + tile * TILE_PIXELS, CHUNK_PIXELS);
                }
                if (count == CHUNK_PIXELS) /* a constant size: inlined vector copies */
                    for (size_t j = 0; j < channels; j++) memcpy(y + (ch0 + j) * plane + p0, staged + j * CHUNK_PIXELS, CHUNK_PIXELS);
                else
                    for (size_t j = 0; j < channels; j++) memcpy(y + (ch0 + j) * plane + p0, staged + j * CHUNK_PIXELS, count);
            }
        }
    }
}
#endif

void ferry_qconv_direct(const void *packed_w, size_t m, size_t c, const void *x_channels_last, int x_signed,
                        int32_t x_zero_point, size_t h, size_t w, size_t kh, size_t kw, size_t stride_h, size_t stride_w,
                        size_t dil_h, size_t dil_w, size_t pad_top, size_t pad_left, size_t oh, size_t ow,
                        size_t p_begin, size_t p_end, const int32_t *bias, const float *scale, int32_t zero_point,
                        int32_t qmin, int32_t qmax, void *y) {
#if FERRY_X86
    const size_t taps = kh * kw;
    if (!ferry_qconv_direct_available() || p_begin >= p_end || m == 0 || taps == 0 || taps > FERRY_QCONV_DIRECT_MAX_TAPS ||
        h * w == 0)
        return;
    const int32_t zp = x_signed ? x_zero_point + 128 : x_zero_point;
    direct_conv(packed_w, m, c, x_channels_last, zp, h, w, kh, kw, stride_h, stride_w, dil_h, dil_w, pad_top, pad_left,
                ow, oh * ow, p_begin, p_end, bias, scale, zero_point, qmin, qmax, y);
#else
    (void)packed_w; (void)m; (void)c; (void)x_channels_last; (void)x_signed; (void)x_zero_point; (void)h; (void)w;
    (void)kh; (void)kw; (void)stride_h; (void)stride_w; (void)dil_h; (void)dil_w; (void)pad_top; (void)pad_left;
    (void)oh; (void)ow; (void)p_begin; (void)p_end; (void)bias; (void)scale; (void)zero_point; (void)qmin; (void)qmax; (void)y;
#endif
}
