import FerryIR

extension ShapeOps {
    /// Repetition: Expand (broadcast to a shape) and Tile.
    static func registerExpandTile(into r: inout KernelRegistry) {
        r.register("Expand") { _ in
            FunctionKernel { inputs, ctx in
                let x = try inputs.required(0)
                let target = try shapeIntegers(try inputs.required(1, "shape"), "shape")
                let rank = max(x.rank, target.count)
                let xs = [Int](repeating: 1, count: rank - x.rank) + x.shape
                let ts = [Int](repeating: 1, count: rank - target.count) + target
                let xStrides = shapeStrides(xs)
                var shape = [Int](repeating: 0, count: rank), strides = shape
                for d in 0..<rank {
                    guard ts[d] >= 0, xs[d] == ts[d] || xs[d] == 1 || ts[d] == 1 else {
                        throw KernelError.invalid("shape \(x.shape) cannot be expanded to \(target)")
                    }
                    shape[d] = xs[d] == 1 ? ts[d] : xs[d]
                    strides[d] = xs[d] == 1 ? 0 : xStrides[d]
                }
                return [try ShapeStridedCopy.copy(x, shape: shape, strides: strides, ctx: ctx)]
            }
        }
        r.register("Tile") { spec in
            let legacy = spec.opset < 6
            return FunctionKernel { inputs, ctx in
                let x = try inputs.required(0)
                var repeats: [Int]
                if legacy {
                    let tiles = try shapeIntegers(try inputs.required(1, "tiles"), "tiles")
                    let axis = try shapeIntegers(try inputs.required(2, "axis"), "axis")
                    guard tiles.count == 1, axis.count == 1 else { throw KernelError.invalid("tiles and axis must be scalars") }
                    repeats = [Int](repeating: 1, count: x.rank)
                    repeats[try shapeAxis(axis[0], rank: x.rank)] = tiles[0]
                } else {
                    repeats = try shapeIntegers(try inputs.required(1, "repeats"), "repeats")
                }
                guard repeats.count == x.rank, repeats.allSatisfy({ $0 >= 0 }) else {
                    throw KernelError.invalid("repeats \(repeats) do not fit an input of rank \(x.rank)")
                }
                // Each axis becomes (repeat, original) with the repeat read at stride 0.
                let xStrides = shapeStrides(x.shape)
                var view: [Int] = [], strides: [Int] = [], shape: [Int] = []
                for d in 0..<x.rank {
                    view += [repeats[d], x.shape[d]]
                    strides += [0, xStrides[d]]
                    shape.append(try shapeMultiply(repeats[d], x.shape[d]))
                }
                return [try ShapeStridedCopy.copy(x, shape: view, strides: strides, ctx: ctx).reshaped(shape)]
            }
        }
    }
}
