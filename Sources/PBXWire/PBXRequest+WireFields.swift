extension PBXRequest {
    /// The wire's name (its proto3 JSON name) for a field the engine named in an error about this request, so
    /// that a PBX sees one vocabulary whichever layer refused a value. The engine calls an extension's number
    /// `number` (as an extension sync's entries and the admin API do) and an unknown extension `extension`;
    /// Authorize, Ended and Resync carry it as `extension_number`. Every other field the engine names is
    /// already the wire's (`callId`, `dialled`, `billableMs`, `cause`).
    public func wireField(_ field: String) -> String {
        switch (self, field) {
        case (.extensionSync, "extension"): "number"
        case (.extensionSync, _): field
        case (_, "number"), (_, "extension"): "extensionNumber"
        default: field
        }
    }
}
