import ArgumentParser
import Ferry

/// Options shared by every subcommand that reads a model.
struct ReadingOptions: ParsableArguments {
    @Flag(help: "HDF5: follow external links, external raw storage and virtual datasets (they read other files).")
    var allowExternalData = false

    @Flag(
        help:
            "HDF5 and Keras: run libhdf5 inside this process instead of its reader helper process (trusted files only: a damaged file can then crash or hang ferry)."
    )
    var hdf5InProcess = false

    @Flag(help: "Keras: make image inputs channels-first (N, C, H, W) instead of Keras's (N, H, W, C).")
    var channelsFirstInputs = false

    @Option(
        name: .customLong("key"),
        help: ArgumentHelp(
            "PyTorch checkpoints: the top-level key holding the tensors (default: the first dict of tensors).", valueName: "key"))
    var checkpointKey: String?

    var loadOptions: LoadOptions {
        var o = LoadOptions()
        o.checkpointKey = checkpointKey
        o.allowExternalData = allowExternalData
        o.channelsFirstInputs = channelsFirstInputs
        o.hdf5InProcess = hdf5InProcess
        return o
    }
}

extension ModelFormat: ExpressibleByArgument {}
