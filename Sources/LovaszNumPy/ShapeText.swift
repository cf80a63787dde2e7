extension Array where Element == Int {
    /// `[2, 3, 4]`: a shape as the module's messages print it (the same spelling as the
    /// loss library's messages; this module does not depend on that library).
    var bracketed: String { "[" + map(String.init).joined(separator: ", ") + "]" }
}
