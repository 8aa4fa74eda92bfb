import ArgumentParser
import Ferry

/// Options shared by every subcommand that reads a model.
struct ReadingOptions: ParsableArguments {
    @Flag(help: "HDF5: follow external links, external raw storage and virtual datasets (they read other files).")
    var allowExternalData = false

    var loadOptions: LoadOptions {
        var o = LoadOptions()
        o.allowExternalData = allowExternalData
        return o
    }
}

extension ModelFormat: ExpressibleByArgument {}
