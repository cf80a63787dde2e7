extension Array where Element == Int {
    /// `[2, 3, 4]`: a shape or a position as every message of the package prints it.
    package var bracketed: String { "[" + map(String.init).joined(separator: ", ") + "]" }
}
