import FerryIR

#if canImport(CBLAS)
    import CBLAS
#endif
#if canImport(Glibc)
    import Glibc
#endif

/// Options of an inference session.
public struct SessionOptions: Sendable {
    /// Threads kernels use; the default is the number of cores.
    public var threads: Int
    /// Longest a `run` may take, in seconds: past it, the run ends with an error naming the node
    /// it reached (checked between nodes and loop iterations). nil: no limit.
    public var timeoutSeconds: Double?
    /// Most activation bytes live at once: an output that would pass it ends the run with an error
    /// naming its node. The default is half the machine's physical memory (what the values take
    /// beyond their bytes must still fit beside them).
    public var maxMemoryBytes: Int

    public init(threads: Int? = nil, timeoutSeconds: Double? = nil, maxMemoryBytes: Int? = nil) {
        self.threads = max(1, threads ?? SessionOptions.cores)
        self.timeoutSeconds = timeoutSeconds
        self.maxMemoryBytes = maxMemoryBytes ?? SessionOptions.physicalMemory / 2
    }

    /// Bytes of physical memory.
    public static var physicalMemory: Int {
        #if canImport(Glibc)
            return max(1 << 30, Int(sysconf(Int32(_SC_PHYS_PAGES))) * Int(sysconf(Int32(_SC_PAGESIZE))))
        #else
            return Int.max
        #endif
    }

    /// Cores available to this process.
    public static var cores: Int {
        #if canImport(Glibc)
            return max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        #else
            return 1
        #endif
    }
}

/// Runs a model on the CPU. Planning (kernel choice, constant folding, fusion, weight packing)
/// happens once in `init`; `run` can then be called many times, with any input shapes the model
/// allows, and from several threads at once: the plan is read-only while runs use it, and each run
/// takes its activation memory from a pool no other run is using at the time (serial runs reuse
/// one pool's blocks). Runs at the same time share the session's thread pool: one of them has the
/// worker threads for a parallel step, the others run that step on their own thread.
public final class InferenceSession: @unchecked Sendable {
    /// The values a caller feeds, as the model declares them.
    public let inputs: [ValueInfo]
    /// The values `run` returns, in this order.
    public let outputs: [ValueInfo]
    public let options: SessionOptions
    /// The largest number of activation bytes live at once during the last run to finish.
    public var peakActivationBytes: Int { pools.lastPeak }

    private let program: GraphProgram
    private let pools: PoolShelf

    /// Plans `model`. A model passed as its last use (a temporary, or `consume model`) is released
    /// as planning goes: each weight is freed once its kernel has packed its own copy, so the
    /// original and the packed weights are not all in memory at once.
    public init(model: consuming Model, options: SessionOptions = SessionOptions()) throws {
        self.options = options
        pools = PoolShelf(limit: options.maxMemoryBytes)
        #if canImport(CBLAS)
            openblas_set_num_threads(1)
        #endif
        var opsets: [String: Int] = [:]
        for o in model.opsetImports { opsets[Domain.canonical(o.domain)] = Int(o.version) }
        if opsets[""] == nil { opsets[""] = 1 }
        let planner = Planner(opsets: opsets, registry: KernelRegistry.standard, threads: options.threads)
        inputs = model.graph.runtimeInputs
        outputs = model.graph.outputs
        let graph = (consume model).graph
        program = try planner.compile(
            HalfPrecision.needed(graph) ? try HalfPrecision.widen(graph) : consume graph, outerNames: [])
    }

    /// Runs the model. `feeds` maps input names to tensors; the outputs come back in `outputs` order.
    public func run(_ feeds: [String: Tensor], profiler: Profiler? = nil) throws -> [(name: String, tensor: Tensor)] {
        for name in feeds.keys where !inputs.contains(where: { $0.name == name }) {
            throw RuntimeError.unknownInput(name: name, expected: inputs.map(\.name))
        }
        var values: [Value] = []
        for info in inputs {
            guard let t = feeds[info.name] else {
                throw RuntimeError.missingInput(name: info.name, expected: info.type?.description ?? "a tensor")
            }
            try check(t, against: info)
            do { values.append(try Value(t)) } catch let e as KernelError {
                throw RuntimeError.inputType(
                    name: info.name, expected: info.type?.description ?? "a numeric tensor", got: e.reason)
            }
        }
        let pool = pools.take()
        defer { pools.giveBack(pool) }
        let ctx = ExecutionContext(pool: pool, threads: options.threads, timeoutSeconds: options.timeoutSeconds)
        // float16 and bfloat16 values were widened at plan time.
        values = try values.map { HalfPrecision.types.contains($0.type) ? try convert($0, to: .float, ctx: ctx) : $0 }
        var results = try program.execute(inputs: values, outer: [], ctx: ctx, profiler: profiler)
        for (i, info) in outputs.enumerated() {
            if case .tensor(let type, _)? = info.type?.type, HalfPrecision.types.contains(type), results[i].type == .float {
                results[i] = try convert(results[i], to: type, ctx: ctx)
            }
        }
        return zip(outputs, results).map { (name: $0.name, tensor: $1.tensor(name: $0.name)) }
    }

    /// Checks a feed against the declared type: element type, rank and fixed sizes (symbolic sizes
    /// are free, as in onnxruntime).
    private func check(_ t: Tensor, against info: ValueInfo) throws {
        guard case .tensor(let type, let dims)? = info.type?.type else { return }
        if type != .undefined && type != t.elementType {
            throw RuntimeError.inputType(name: info.name, expected: info.type!.description, got: t.elementType.name)
        }
        guard let dims else { return }
        let expected = info.type!.description
        guard dims.count == t.shape.count else {
            throw RuntimeError.inputShape(name: info.name, expected: expected, got: t.shape)
        }
        for (d, n) in zip(dims, t.shape) {
            switch d.value {
            case .fixed(let f) where f >= 0 && Int(f) != n:
                throw RuntimeError.inputShape(name: info.name, expected: expected, got: t.shape)
            default: break
            }
        }
        do { try t.validate() } catch let e as IRError {
            throw RuntimeError.inputShape(name: info.name, expected: "\(expected): \(e)", got: t.shape)
        }
    }
}
