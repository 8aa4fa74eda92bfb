import FerryIR

extension TestSupport {
    /// A model whose Loop (node 'endless') has trip count 2^62: its body negates a carried [4]
    /// tensor and, with `scan`, gives its iteration number as a scan output stacked over all
    /// iterations. It needs no inputs. The run-limit tests stop it by time or by memory.
    public static func endlessLoopModel(scan: Bool) -> Model {
        func info(_ name: String, _ type: ElementType) -> ValueInfo {
            ValueInfo(name: name, type: TypeInfo(.tensor(type, shape: nil)))
        }
        let body = Graph(
            name: "body",
            nodes: [
                Node(opType: "Identity", inputs: ["cond_in"], outputs: ["cond_out"]),
                Node(opType: "Neg", inputs: ["x_in"], outputs: ["x_out"])
            ] + (scan ? [Node(opType: "Identity", inputs: ["i"], outputs: ["i_out"])] : []),
            inputs: [info("i", .int64), info("cond_in", .bool), info("x_in", .float)],
            outputs: [info("cond_out", .bool), info("x_out", .float)] + (scan ? [info("i_out", .int64)] : []))
        let outputs = scan ? ["x_final", "counts"] : ["x_final"]
        let graph = Graph(
            name: "g",
            nodes: [
                Node(
                    opType: "Loop", name: "endless", inputs: ["M", "", "x"], outputs: outputs,
                    attributes: [Attribute("body", .graph(body))])
            ],
            initializers: [
                Tensor(name: "M", elementType: .int64, shape: [], values: [Int64(1) << 62]),
                Tensor(name: "x", elementType: .float, shape: [4], values: [Float](arrayLiteral: 1, 2, 3, 4))
            ],
            inputs: [], outputs: outputs.map { info($0, .undefined) })
        return Model(irVersion: 8, opsetImports: [OpsetID(domain: "", version: 17)], graph: graph)
    }
}
