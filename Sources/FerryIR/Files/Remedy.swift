/// What a user can do about an error, for a front end to phrase in its own terms (the CLI names
/// its flags; a library caller sets the matching option). Library messages name no flags.
public enum Remedy: Sendable, Equatable {
    /// Allow replacing an existing output (`SaveOptions.replaceExisting`).
    case replaceOutput
    /// Allow reading data from other files (`allowExternal`).
    case allowExternalData
    /// Store the weights in an external data file (`externalDataFile`).
    case useExternalData
    /// Write the model's initializers alone (`SaveOptions.weightsOnly`).
    case writeWeightsOnly
}

/// An error that knows its remedy (nil when there is none).
public protocol Remediable: Error {
    var remedy: Remedy? { get }
}

extension FileError: Remediable {
    public var remedy: Remedy? {
        if case .outputExists = self { return .replaceOutput }
        return nil
    }
}
