import CKernels

/// A stride-1 2-D convolution without im2col: the input planes are copied once with their zero
/// padding, into rows `wp` wide that yield the output's width, and the GEMM reads B's row for
/// channel c and tap (r, s) in place, as the padded planes shifted by `c * plane + r * dh * wp + s * dw`
/// (`ferry_sgemm_shifted`). It computes `wp - ow` junk columns per output row (the taps running
/// into the next row), dropped when a block of rows is copied out, instead of writing kc floats per
/// output position.
struct ShiftedConvolution {
    let channels: Int, height: Int, width: Int
    let outHeight: Int, outWidth: Int
    let kernel: (Int, Int), dilations: (Int, Int), padBegin: (Int, Int)
    /// Output channels per group, and the threads that share a group's product.
    let outputChannels: Int, parts: Int

    /// Padded plane geometry: the width that yields `outWidth` outputs and the height that yields
    /// `outHeight` rows.
    var paddedWidth: Int { outWidth + (kernel.1 - 1) * dilations.1 }
    var paddedHeight: Int { outHeight + (kernel.0 - 1) * dilations.0 }
    var plane: Int { paddedWidth * paddedHeight }
    /// Floats read past the last plane: the last tap's shift and a 16-column panel's rounding.
    var slack: Int { (kernel.1 - 1) * dilations.1 + 16 }
    /// Output rows per tile: each part gets at least one tile, and a tile's product stays within
    /// the output-block budget.
    var rowsPerTile: Int {
        max(1, min((outHeight + parts - 1) / parts, outputTileBytes / max(1, 4 * outputChannels * paddedWidth)))
    }
    /// Scratch floats `multiply` needs: one tile's product per part.
    var scratchFloats: Int { parts * outputChannels * rowsPerTile * paddedWidth }

    /// Offsets of B's rows (channel, tap row, tap column, as the weights are laid out) from a group's base.
    func rowOffsets(channelsPerGroup cg: Int) -> [Int] {
        var offsets: [Int] = []
        offsets.reserveCapacity(cg * kernel.0 * kernel.1 + Int(FERRY_SHIFTED_AHEAD))
        for c in 0..<cg {
            for r in 0..<kernel.0 {
                for s in 0..<kernel.1 { offsets.append(c * plane + r * dilations.0 * paddedWidth + s * dilations.1) }
            }
        }
        // The tiles fetch rows ahead of the one they read: past the last, the first row again.
        offsets.append(contentsOf: repeatElement(0, count: Int(FERRY_SHIFTED_AHEAD)))
        return offsets
    }

    /// Copies image `x` (channels x height x width) into `padded` (channels padded planes and the
    /// slack), zero outside the image, channels shared among the context's threads.
    func pad(_ x: UnsafePointer<Float>, into padded: UnsafeMutablePointer<Float>, _ ctx: ExecutionContext) {
        let wp = paddedWidth, hp = paddedHeight, plane = self.plane
        let top = padBegin.0
        let left = padBegin.1
        let copied = max(0, min(width, wp - left))
        ctx.parallel(channels, itemElements: plane) { r in
            for c in r {
                let src = x + c * height * width, dst = padded + c * plane
                for row in 0..<hp {
                    let out = dst + row * wp, inRow = row - top
                    guard inRow >= 0, inRow < height, copied > 0 else {
                        out.initialize(repeating: 0, count: wp)
                        continue
                    }
                    out.initialize(repeating: 0, count: left)
                    (out + left).update(from: src + inRow * width, count: copied)
                    (out + left + copied).initialize(repeating: 0, count: wp - left - copied)
                }
            }
        }
        (padded + channels * plane).initialize(repeating: 0, count: slack)
    }

    /// One group's product: the output channels of packed weights `wg` (depth kc) over the padded
    /// planes at `base`, written to `yg` (outputChannels x outHeight * outWidth) in tiles of
    /// `rowsPerTile` output rows, each through `scratch` (`scratchFloats`) and then `finish` (the
    /// output pass over a block of rows and columns of `yg`). Tiles, or row panels of a tile when
    /// there are fewer tiles than parts, are shared among `parts` threads.
    func multiply(
        _ wg: UnsafePointer<Float>, depth kc: Int, base: UnsafePointer<Float>, offsets: [Int],
        into yg: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>, finish: (Range<Int>, Range<Int>) -> Void
    ) {
        let wp = paddedWidth, ow = outWidth, p = outHeight * outWidth
        let mg = outputChannels, parts = self.parts, rowsPerTile = self.rowsPerTile
        let tiles = (outHeight + rowsPerTile - 1) / rowsPerTile, panels = (mg + 5) / 6
        let splits = tiles >= parts ? 1 : min(panels, (parts + tiles - 1) / tiles)
        let items = tiles * splits
        offsets.withUnsafeBufferPointer { offs in
            parallelRanges(parts, threads: parts) { r in
                for part in r {
                    let tmp = scratch + part * mg * rowsPerTile * wp
                    for item in (items * part / parts)..<(items * (part + 1) / parts) {
                        let tile = item / splits, split = item % splits
                        let r0 = tile * rowsPerTile, rows = min(rowsPerTile, outHeight - r0), ldc = rows * wp
                        let lo = panels * split / splits * 6, hi = min(mg, panels * (split + 1) / splits * 6)
                        guard lo < hi else { continue }
                        ferry_sgemm_shifted(hi - lo, ldc, kc, wg + lo * kc, base + r0 * wp, offs.baseAddress, tmp + lo * ldc, ldc)
                        for m in lo..<hi {
                            for row in 0..<rows {
                                (yg + m * p + (r0 + row) * ow).update(from: tmp + m * ldc + row * wp, count: ow)
                            }
                        }
                        finish(lo..<hi, (r0 * ow)..<((r0 + rows) * ow))
                    }
                }
            }
        }
    }
}
