/// Which recurrent cell a layer runs, with the attributes only that cell has.
enum RecurrentCell {
    case rnn
    case gru(linearBeforeReset: Bool)
    case lstm(inputForget: Bool)

    /// Gate blocks stacked in W, R and B: RNN 1, GRU 3 (z, r, h), LSTM 4 (i, o, f, c).
    var gates: Int {
        switch self {
        case .rnn: return 1
        case .gru: return 3
        case .lstm: return 4
        }
    }

    /// The activations one direction uses when the node names none: RNN f, GRU f g, LSTM f g h.
    var defaultActivations: [RecurrentActivation.Kind] {
        switch self {
        case .rnn: return [.tanh]
        case .gru: return [.sigmoid, .tanh]
        case .lstm: return [.sigmoid, .tanh, .tanh]
        }
    }

    var isLSTM: Bool {
        if case .lstm = self { return true }
        return false
    }

    /// True for a GRU whose h gate applies R before the reset gate (its recurrent h bias stays apart).
    var linearBeforeReset: Bool {
        if case .gru(let lbr) = self { return lbr }
        return false
    }

    /// True for a GRU without linear_before_reset: r·Ht-1 is formed before it meets Rh.
    var resetsStateBeforeR: Bool {
        if case .gru(let lbr) = self { return !lbr }
        return false
    }
}
