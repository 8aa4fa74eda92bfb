import FerryIR

/// Shape and data-movement ops: views, permutations, joins and splits, slicing, padding and
/// center cropping, repetition, shape queries, constants, ranges, casts and triangular masks.
enum ShapeOps {
    static func register(into r: inout KernelRegistry) {
        registerViews(into: &r)
        registerTranspose(into: &r)
        registerConcatSplit(into: &r)
        registerSlice(into: &r)
        registerExpandTile(into: &r)
        registerPad(into: &r)
        registerCenterCropPad(into: &r)
        registerGenerators(into: &r)
        registerCast(into: &r)
        registerTriangular(into: &r)
    }
}
