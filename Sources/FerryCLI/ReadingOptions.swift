import ArgumentParser
import Ferry

/// Options shared by every subcommand that reads a model.
struct ReadingOptions: ParsableArguments {
    @Flag(help: "HDF5: follow external links, external raw storage and virtual datasets (they read other files).")
    var allowExternalData = false

    @Flag(help: "Keras: make image inputs channels-first (N, C, H, W) instead of Keras's (N, H, W, C).")
    var channelsFirstInputs = false

    var loadOptions: LoadOptions {
        var o = LoadOptions()
        o.allowExternalData = allowExternalData
        o.channelsFirstInputs = channelsFirstInputs
        return o
    }
}

extension ModelFormat: ExpressibleByArgument {}
