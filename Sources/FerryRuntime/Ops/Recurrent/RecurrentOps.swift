/// Recurrent layers: RNN, GRU and LSTM with every ONNX attribute (directions, sequence lengths,
/// initial states, peepholes, activations, clip, layout).
enum RecurrentOps {
    static func register(into r: inout KernelRegistry) {
        r.register("RNN") { spec in try RecurrentLayer(spec, cell: .rnn) }
        r.register("GRU") { spec in
            try RecurrentLayer(spec, cell: .gru(linearBeforeReset: try spec.int("linear_before_reset", 0) != 0))
        }
        r.register("LSTM") { spec in
            try RecurrentLayer(spec, cell: .lstm(inputForget: try spec.int("input_forget", 0) != 0))
        }
    }
}
