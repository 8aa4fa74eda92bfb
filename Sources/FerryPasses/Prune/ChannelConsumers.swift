import FerryIR

/// How channels pass through the nodes that read them.
extension ChannelDependencies {
    /// Routes the channels reaching node `i` at `slots` by the node's op type.
    mutating func follow(_ i: Int, _ n: Node, _ slots: [Int]) {
        let op = n.qualifiedOpType
        let l = plan.layouts[n.inputs[slots[0]]]!
        guard let out = n.outputs.first, !out.isEmpty else { return blockInputs(n, slots, "\(label(i)) has no output") }
        switch op {
        case "Conv", "ConvTranspose", "Gemm", "MatMul":
            sink(i, n, slots)
        case _ where Self.unary.contains(op):
            guard slots == [0] else { return blockInputs(n, slots, "is a parameter of \(label(i))") }
            for o in n.outputs where !o.isEmpty { plan.layouts[o] = l }
        case _ where Self.pools.contains(op):
            guard slots == [0], l.axis == 1, !l.hasRepeats, n.outputs.dropFirst().allSatisfy(\.isEmpty) else {
                return blockInputs(n, slots, "reaches \(label(i)) off its channel axis")
            }
            plan.layouts[out] = l
        case _ where Self.sizeKeeping.contains(op):
            guard slots == [0], let y = shapes[out], let x = shapes[n.inputs[0]], y.count == x.count, l.axis < y.count,
                y[l.axis] == x[l.axis]
            else {
                return blockInputs(n, slots, "\(label(i)) changes the channel count")
            }
            plan.layouts[out] = l
        case _ where Self.normalizations.contains(op):
            normalization(i, n, slots, l)
        case _ where Self.joins.contains(op):
            join(i, n, slots)
        case "Concat":
            concat(i, n, slots)
        case _ where Self.reshapes.contains(op):
            reshape(i, n, l)
        case "Transpose":
            let rank = shapes[n.inputs[0]]?.count ?? 0
            let perm = n.ints("perm") ?? Array((0..<rank).reversed())
            guard let axis = perm.firstIndex(of: l.axis) else { return block(l, "\(label(i)) has no permutation for its input") }
            plan.layouts[out] = ChannelLayout(axis: axis, segments: l.segments)
        case _ where op.hasPrefix("Reduce"):
            reduce(i, n, l)
        case _ where Self.shapeReaders.contains(op):
            break
        default:
            blockInputs(n, slots, "feeds \(label(i)), whose channel mapping is unclear")
        }
    }

    /// Conv/ConvTranspose/Gemm/MatMul reading channels: their weights lose the matching input
    /// channels; a depthwise convolution passes them through.
    mutating func sink(_ i: Int, _ n: Node, _ slots: [Int]) {
        guard slots == [0], n.inputs.count > 1, let w = editable(n.inputs[1]) else {
            return blockInputs(n, slots, "\(label(i)) reads them other than as its data input")
        }
        let l = plan.layouts[n.inputs[0]]!
        switch n.opType {
        case "Conv", "ConvTranspose":
            guard l.axis == 1, !l.hasRepeats else { return block(l, "reaches \(label(i)) off its channel axis") }
            let group = n.int("group", 1)
            if group == 1 {
                keep(i, 1, axis: n.opType == "Conv" ? 1 : 0, l)
            } else if n.opType == "Conv", let out = n.outputs.first, w.shape.count >= 3, w.shape[1] == 1, w.shape[0] == group,
                group == l.length
            {
                keep(i, 1, axis: 0, l)
                if n.inputs.count > 2, !n.inputs[2].isEmpty {
                    guard editable(n.inputs[2]) != nil else { return block(l, "\(label(i)) has a computed bias") }
                    keep(i, 2, axis: 0, l)
                }
                plan.groupEdits[i] = l
                plan.layouts[out] = l
            } else {
                block(l, "feeds the grouped convolution \(label(i))")
            }
        case "Gemm":
            guard n.int("transA", 0) == 0, l.axis == 1, w.shape.count == 2 else {
                return block(l, "reaches \(label(i)) off its inner axis")
            }
            keep(i, 1, axis: n.int("transB", 0) == 0 ? 0 : 1, l)
        default:
            guard w.shape.count == 2, let rank = shapes[n.inputs[0]]?.count, l.axis == rank - 1 else {
                return block(l, "reaches \(label(i)) off its inner axis")
            }
            keep(i, 1, axis: 0, l)
        }
    }

    /// BatchNormalization / InstanceNormalization: per-channel parameters follow the channels.
    mutating func normalization(_ i: Int, _ n: Node, _ slots: [Int], _ l: ChannelLayout) {
        guard slots == [0], l.axis == 1, !l.hasRepeats, n.outputs.dropFirst().allSatisfy({ $0.isEmpty }) else {
            return blockInputs(n, slots, "reaches \(label(i)) off its channel axis")
        }
        for slot in 1..<n.inputs.count where !n.inputs[slot].isEmpty {
            guard let t = editable(n.inputs[slot]), t.shape == [l.length] else {
                return block(l, "\(label(i)) has computed parameters")
            }
            keep(i, slot, axis: 0, l)
        }
        if let out = n.outputs.first { plan.layouts[out] = l }
    }

    /// Element-wise ops with broadcasting: channel values joined by them share one space;
    /// per-channel constants are cut; anything else varying along the channels blocks.
    mutating func join(_ i: Int, _ n: Node, _ slots: [Int]) {
        guard let out = n.outputs.first, let rank = shapes[out]?.count else {
            return blockInputs(n, slots, "\(label(i)) has no known shape")
        }
        var aligned: [ChannelLayout] = []
        for s in slots {
            var l = plan.layouts[n.inputs[s]]!
            guard let r = shapes[n.inputs[s]]?.count else { return blockInputs(n, slots, "\(label(i)) has no known shape") }
            l.axis += rank - r
            aligned.append(l)
        }
        let first = aligned[0]
        if n.inputs.filter({ !$0.isEmpty && index.initializer[$0] == nil }).count > 1 {
            for s in aligned.flatMap(\.spaces) { plan.spaces.markJoined(s) }
        }
        for l in aligned.dropFirst() {
            guard l.axis == first.axis, l.segments.count == first.segments.count,
                zip(l.segments, first.segments).allSatisfy({ $0.channels == $1.channels && $0.repeats == $1.repeats })
            else {
                return blockInputs(n, slots, "\(label(i)) joins values whose channels do not line up")
            }
            for (a, b) in zip(first.segments, l.segments) {
                switch (a.space, b.space) {
                case (let x?, let y?): plan.spaces.union(x, y)
                case (let x?, nil), (nil, let x?): plan.spaces.block(x, "\(label(i)) joins them with channels that stay")
                case (nil, nil): break
                }
            }
        }
        for (slot, name) in n.inputs.enumerated() where !name.isEmpty && !slots.contains(slot) {
            guard let shape = shapes[name] else { return block(first, "\(label(i)) reads '\(name)' of unknown shape") }
            let axis = first.axis - (rank - shape.count)
            if axis < 0 || (axis < shape.count && shape[axis] == 1) { continue }
            guard axis < shape.count, shape[axis] == first.length, editable(name) != nil else {
                return block(first, "\(label(i)) joins them with '\(name)', whose channels cannot be removed")
            }
            keep(i, slot, axis: axis, first)
        }
        plan.layouts[out] = first
    }

    /// Concat along the channel axis lines the inputs' channels up; other inputs' channels stay.
    mutating func concat(_ i: Int, _ n: Node, _ slots: [Int]) {
        guard let out = n.outputs.first, let rank = shapes[out]?.count else {
            return blockInputs(n, slots, "\(label(i)) has no known shape")
        }
        var axis = n.int("axis", 0)
        if axis < 0 { axis += rank }
        var segments: [ChannelSegment] = []
        for name in n.inputs where !name.isEmpty {
            if let l = plan.layouts[name] {
                guard l.axis == axis else { return blockInputs(n, slots, "\(label(i)) concatenates along another axis") }
                segments += l.segments
            } else {
                guard let shape = shapes[name], axis < shape.count else {
                    return blockInputs(n, slots, "\(label(i)) reads '\(name)' of unknown shape")
                }
                segments.append(ChannelSegment(space: nil, channels: shape[axis], repeats: 1))
            }
        }
        plan.layouts[out] = ChannelLayout(axis: axis, segments: segments)
    }

    /// Flatten, Reshape, Squeeze, Unsqueeze: followed when each channel stays one block of
    /// consecutive positions along one output axis; a Reshape's constant target shape is edited.
    mutating func reshape(_ i: Int, _ n: Node, _ l: ChannelLayout) {
        guard let out = n.outputs.first, let x = shapes[n.inputs[0]], let y = shapes[out], l.axis < x.count,
            n.inputs.indices.filter({ plan.layouts[n.inputs[$0]] != nil }) == [0]
        else {
            return block(l, "\(label(i)) has no known shapes")
        }
        let prefix = x[..<l.axis].reduce(1, *), inner = x[(l.axis + 1)...].reduce(1, *), length = l.length
        var before = 1
        var found: (axis: Int, factor: Int)?
        for b in y.indices {
            if before == prefix, y[b] >= length, length > 0, y[b] % length == 0,
                (y[b] / length) * y[(b + 1)...].reduce(1, *) == inner
            {
                found = (b, y[b] / length)
                break
            }
            before *= y[b]
        }
        guard let (axis, factor) = found else { return block(l, "\(label(i)) mixes the channels with other axes") }
        let moved = ChannelLayout(
            axis: axis,
            segments: l.segments.map { ChannelSegment(space: $0.space, channels: $0.channels, repeats: $0.repeats * factor) })
        if n.opType == "Reshape" {
            guard n.inputs.count > 1, let (node, slot, position) = targetEntry(of: n.inputs[1], at: axis, reshape: i),
                let entries = editable(graph.nodes[node].inputs[slot])?.bytes?.toArray(of: Int64.self)
            else {
                return block(l, "\(label(i)) has a computed target shape")
            }
            switch entries[position] {
            case -1: break
            case 0 where n.int("allowzero", 0) == 0 && axis == l.axis && factor == 1 && node == i: break
            case Int64(y[axis]):
                plan.edits.append(ChannelEdit(node: node, slot: slot, kind: .shapeEntry(position: position, layout: moved)))
            default: return block(l, "\(label(i)) has target shape \(entries)")
            }
        }
        plan.layouts[out] = moved
    }

    /// Reductions over other axes pass the channels on; reducing the channels blocks them.
    mutating func reduce(_ i: Int, _ n: Node, _ l: ChannelLayout) {
        guard let out = n.outputs.first, let x = shapes[n.inputs[0]], let y = shapes[out], l.axis < x.count else {
            return block(l, "\(label(i)) has no known shapes")
        }
        if y.count == x.count {
            guard y[l.axis] == x[l.axis] else { return block(l, "\(label(i)) reduces over the channels") }
            plan.layouts[out] = l
            return
        }
        var axes = n.ints("axes")
        if axes == nil, n.inputs.count > 1, let t = editable(n.inputs[1]), t.elementType == .int64 {
            axes = t.bytes!.toArray(of: Int64.self).map { Int($0) }
        }
        guard let reduced = axes?.map({ $0 < 0 ? $0 + x.count : $0 }), !reduced.isEmpty, !reduced.contains(l.axis) else {
            return block(l, "\(label(i)) reduces over the channels")
        }
        plan.layouts[out] = ChannelLayout(axis: l.axis - reduced.filter { $0 < l.axis }.count, segments: l.segments)
    }

    /// Where entry `axis` of the target shape `name` of Reshape node `reshape` is stored: the int64
    /// initializer itself, or one of the int64 initializers a Concat of 1-D pieces joins (the pieces before
    /// it may be computed, such as the batch size read with Shape; those after it may not).
    /// Returns the node and slot reading that initializer and the entry's position in it.
    func targetEntry(of name: String, at axis: Int, reshape: Int) -> (node: Int, slot: Int, position: Int)? {
        if let t = editable(name), t.elementType == .int64, axis < t.storedElementCount { return (reshape, 1, axis) }
        guard let p = index.producer[name], graph.nodes[p].isONNX("Concat") else { return nil }
        let concat = graph.nodes[p]
        var offset = 0
        for (slot, piece) in concat.inputs.enumerated() {
            guard let shape = shapes[piece], shape.count == 1 else { return nil }
            if axis < offset + shape[0] {
                guard let t = editable(piece), t.elementType == .int64,
                    concat.inputs[(slot + 1)...].allSatisfy({ editable($0) != nil })
                else { return nil }
                return (p, slot, axis - offset)
            }
            offset += shape[0]
        }
        return nil
    }
}
