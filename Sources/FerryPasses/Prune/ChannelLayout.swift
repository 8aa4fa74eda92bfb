/// A run of positions along a value's channel axis: `channels` channels of one channel space
/// (nil: channels nothing can remove), each covering `repeats` consecutive positions (a
/// channels-first tensor flattened gives each channel its spatial positions).
struct ChannelSegment: Equatable {
    var space: Int?
    var channels: Int
    var repeats: Int

    var length: Int { channels * repeats }
}

/// Where the channels of a value are: its channel axis and what lies along it.
struct ChannelLayout: Equatable {
    var axis: Int
    var segments: [ChannelSegment]

    var length: Int { segments.reduce(0) { $0 + $1.length } }
    var spaces: [Int] { segments.compactMap(\.space) }
    var hasRepeats: Bool { segments.contains { $0.repeats != 1 } }

    /// Positions along the axis that stay, given each space's kept channels (a space missing
    /// from `kept` keeps all its channels).
    func keptPositions(_ kept: (Int) -> [Int]?) -> [Int] {
        var out: [Int] = []
        var offset = 0
        for s in segments {
            let channels = s.space.flatMap(kept) ?? Array(0..<s.channels)
            for c in channels { out += (offset + c * s.repeats)..<(offset + (c + 1) * s.repeats) }
            offset += s.length
        }
        return out
    }
}

/// Sets of channels that must be removed together: every producer of a space removes the same
/// channels, found by union of spaces joined by Add, Mul and the like. A space is blocked (keeps
/// every channel) as soon as one of its values reaches something whose channels cannot follow.
struct ChannelSpaces {
    private var parent: [Int] = []
    /// Per root: channel count, producing node indices, and why it is blocked.
    private(set) var channels: [Int] = []
    private(set) var producers: [[Int]] = []
    private(set) var blocked: [[String]] = []
    /// Per root: true once an element-wise op joined the space's values with other values.
    private(set) var joined: [Bool] = []

    /// A new space of `channels` channels made by node `producer`.
    mutating func make(channels count: Int, producer: Int) -> Int {
        parent.append(parent.count)
        channels.append(count)
        producers.append([producer])
        blocked.append([])
        joined.append(false)
        return parent.count - 1
    }

    func root(_ s: Int) -> Int {
        var s = s
        while parent[s] != s { s = parent[s] }
        return s
    }

    /// Joins two spaces (the channels of one are those of the other).
    mutating func union(_ a: Int, _ b: Int) {
        let (ra, rb) = (root(a), root(b))
        guard ra != rb else { return }
        parent[rb] = ra
        producers[ra] += producers[rb]
        blocked[ra] += blocked[rb]
        joined[ra] = true
        if channels[ra] != channels[rb] { blocked[ra].append("joins \(channels[ra]) channels with \(channels[rb])") }
    }

    mutating func markJoined(_ s: Int) { joined[root(s)] = true }

    mutating func block(_ s: Int, _ reason: String) {
        let r = root(s)
        if !blocked[r].contains(reason) { blocked[r].append(reason) }
    }

    var roots: [Int] { parent.indices.filter { parent[$0] == $0 } }
}
