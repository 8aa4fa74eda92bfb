/* The blocked loops of every GEMM in CKernels (private to CKernels): the float one (sgemm.c), the
 * int16-pair one (qgemm.c) and the byte one (qgemm_bytes.c) differ only in what is a parameter here:
 * the tile function, how many k make one step (one float, a pair of int16, a quad of int8: 4 bytes of
 * a row of A whichever it is) and where K and M are cut.
 * Loops, outermost first: K in blocks of steps, M in blocks of rows, N in panels of GEMM_NR columns,
 * M in panels of GEMM_MR rows; one register tile per row panel and column panel (or two column panels
 * where the wide tile runs). Also the loop that packs a row-major B into panels, a step of rows at a
 * time (conv_loops.h's im2col_pack packs one from an image). */
#ifndef FERRY_GEMM_DRIVER_H
#define FERRY_GEMM_DRIVER_H
#include "ferry_kernels.h"
#include <stddef.h>
#include <string.h>

enum {
    GEMM_MR = 6,   /* rows of A per panel and per tile */
    GEMM_NR = 16,  /* columns of B per panel */
    GEMM_KC = FERRY_SGEMM_DEPTH_BLOCK, /* most steps per K block: a B panel's block is at most 16 KB */
    GEMM_MC = 120  /* most rows per M block */
};

/* Steps per K block and rows per M block (a multiple of GEMM_MR). */
struct gemm_blocks {
    size_t k, m;
};

/* Full blocks and a shorter last one: the float GEMM's cut, kept because where K is cut changes
 * float sums. */
static inline struct gemm_blocks gemm_full_blocks(size_t steps, size_t m) {
    (void)steps;
    (void)m;
    return (struct gemm_blocks){GEMM_KC, GEMM_MC};
}

/* Blocks of equal size (288 steps are 144 + 144, not 256 + 32): the integer GEMMs' cut, whose sums
 * are exact wherever K is cut. */
static inline struct gemm_blocks gemm_equal_blocks(size_t steps, size_t m) {
    const size_t kblocks = (steps + GEMM_KC - 1) / GEMM_KC, mblocks = (m + GEMM_MC - 1) / GEMM_MC;
    return (struct gemm_blocks){(steps + kblocks - 1) / kblocks,
                                ((m + mblocks - 1) / mblocks + GEMM_MR - 1) / GEMM_MR * GEMM_MR};
}

/* Where the operands are, in bytes. A is packed in panels of GEMM_MR rows: the panel of row i from
 * step s is at a + (i * steps + s * GEMM_MR) * 4. Column j of B from step s is at
 * b + j * b_column + s * b_step (packed panels: b_column = one packed column, b_step = one step of a
 * panel; a row-major B read in place: b_column = one element, b_step = one row). C holds 4-byte
 * elements, ldc per row. */
struct gemm_operands {
    const unsigned char *a;
    size_t steps;
    const unsigned char *b;
    size_t b_column, b_step;
    unsigned char *c;
    size_t ldc;
    /* 1: the first K block adds to C too (C holds a bias or an earlier product). */
    int accumulate;
};

/* One tile's work: kc steps of A's panel at a (the same steps of the next row panel at a_next) and
 * B's columns at b (b_step bytes per step; the next panel's at b_next), into the mr x nr corner of
 * C at c, stored when accumulate is 0 (the first K block) and added after. row is the tile's first
 * row of A, step its first step and column its first column of B (for tiles that find B
 * themselves). */
struct gemm_tile {
    size_t kc;
    const void *a, *a_next, *b, *b_next;
    size_t b_step;
    void *c;
    size_t ldc, mr, nr;
    int accumulate;
    size_t row, step, column;
};

/* A tile function; context is the caller's (the byte GEMM's row sums and zero point). */
typedef void (*gemm_tile_fn)(const struct gemm_tile *tile, const void *context);

/* C = A * B for m x n, every tile through `tile`, or through `wide` (GEMM_MR x 2 GEMM_NR) where more
 * than one panel of columns is left and `wide` is not NULL. */
static inline void gemm_blocked(size_t m, size_t n, struct gemm_operands op, struct gemm_blocks blocks,
                                gemm_tile_fn tile, gemm_tile_fn wide, const void *context) {
    struct gemm_tile t;
    t.b_step = op.b_step;
    t.ldc = op.ldc;
    for (size_t s0 = 0; s0 < op.steps; s0 += blocks.k) {
        t.kc = op.steps - s0 < blocks.k ? op.steps - s0 : blocks.k;
        t.accumulate = s0 > 0 || op.accumulate;
        t.step = s0;
        for (size_t m0 = 0; m0 < m; m0 += blocks.m) {
            const size_t mc = m - m0 < blocks.m ? m - m0 : blocks.m;
            for (size_t j = 0; j < n;) {
                const int pair = wide != NULL && n - j > GEMM_NR;
                const size_t width = pair ? 2 * GEMM_NR : GEMM_NR;
                t.nr = n - j < width ? n - j : width;
                t.b = op.b + j * op.b_column + s0 * op.b_step;
                t.column = j;
                t.b_next = (const unsigned char *)t.b + GEMM_NR * op.b_column;
                for (size_t i = m0; i < m0 + mc; i += GEMM_MR) {
                    t.mr = m - i < GEMM_MR ? m - i : GEMM_MR;
                    t.row = i;
                    t.a = op.a + (i * op.steps + s0 * GEMM_MR) * 4;
                    t.a_next = (const unsigned char *)t.a + GEMM_MR * op.steps * 4;
                    t.c = op.c + (i * op.ldc + j) * 4;
                    (pair ? wide : tile)(&t, context);
                }
                j += width;
            }
        }
    }
}

/* Packs one step of B (its group of consecutive k rows, n columns, row t at rows + t * ld elements)
 * into B's panels of depth k_padded. */
typedef void (*pack_step_fn)(const void *rows, size_t ld, size_t n, size_t k_padded, size_t step, void *packed);

/* Converts n elements of one row of B into the packed element type (context: the caller's zero
 * point and signedness). */
typedef void (*convert_row_fn)(const void *src, size_t n, const void *context, void *dst);

enum { GEMM_PACK_CHUNK = 256 /* columns of B converted at a time */ };

/* Packs a row-major B (k x n, ldb bytes per row) into panels, `group` rows a step (converted into
 * elements of elem_size bytes, at most 4 bytes a step and column), k padded with zero rows to whole
 * steps: GEMM_PACK_CHUNK columns at a time, each converted row going once through a small buffer. */
static inline void gemm_pack_b(const unsigned char *b, size_t ldb, size_t k, size_t n, size_t group, size_t elem_size,
                               convert_row_fn convert, const void *context, pack_step_fn pack, unsigned char *packed) {
    unsigned char rows[4 * GEMM_PACK_CHUNK];
    const size_t steps = (k + group - 1) / group;
    for (size_t j0 = 0; j0 < n; j0 += GEMM_PACK_CHUNK) {
        const size_t nc = n - j0 < GEMM_PACK_CHUNK ? n - j0 : GEMM_PACK_CHUNK;
        for (size_t q = 0; q < steps; q++) {
            for (size_t t = 0; t < group; t++) {
                unsigned char *row = rows + t * nc * elem_size;
                if (q * group + t < k) convert(b + (q * group + t) * ldb + j0, nc, context, row);
                else memset(row, 0, nc * elem_size);
            }
            pack(rows, nc, nc, steps * group, q, packed + j0 * steps * group * elem_size);
        }
    }
}

#endif
