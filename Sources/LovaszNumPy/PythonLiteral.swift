/// A Python literal as written in a `.npy` header (`ast.literal_eval` syntax, the subset NumPy
/// writes and a little more), parsed without recursion deeper than ``maximumDepth``.
enum PythonLiteral: Equatable {
    case string(String)
    case integer(Int)
    case boolean(Bool)
    case none
    case tuple([PythonLiteral])
    case list([PythonLiteral])
    case dictionary([DictionaryEntry])

    struct DictionaryEntry: Equatable {
        let key: PythonLiteral
        let value: PythonLiteral
    }

    /// Nesting deeper than this is rejected (a real header nests two levels at most).
    static let maximumDepth = 16

    /// What a value is, in words, for error messages.
    var kindName: String {
        switch self {
        case .string: return "a string"
        case .integer: return "an integer"
        case .boolean: return "a boolean"
        case .none: return "None"
        case .tuple: return "a tuple"
        case .list: return "a list"
        case .dictionary: return "a dictionary"
        }
    }

    /// Parses `text` as exactly one literal followed by nothing but whitespace.
    ///
    /// - Throws: ``NumPyError/malformedHeader(_:)`` naming the offset of the first problem.
    static func parse(_ text: UnsafeRawBufferPointer) throws(NumPyError) -> PythonLiteral {
        var parser = Parser(bytes: text)
        let value = try parser.value(depth: 0)
        parser.skipWhitespace()
        if parser.position != text.count {
            throw parser.failure("unexpected text after the dictionary")
        }
        return value
    }

    private struct Parser {
        let bytes: UnsafeRawBufferPointer
        var position = 0

        init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

        var current: UInt8? { position < bytes.count ? bytes[position] : nil }

        func failure(_ message: String) -> NumPyError {
            .malformedHeader("\(message) at offset \(position) of the header")
        }

        mutating func skipWhitespace() {
            while let byte = current, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D || byte == 0x0C {
                position += 1
            }
        }

        mutating func value(depth: Int) throws(NumPyError) -> PythonLiteral {
            guard depth < PythonLiteral.maximumDepth else { throw failure("values nested too deeply") }
            skipWhitespace()
            guard let byte = current else { throw failure("the header ends where a value is expected") }
            switch byte {
            case UInt8(ascii: "'"), UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "("):
                let (items, sawComma) = try sequence(closing: UInt8(ascii: ")"), depth: depth)
                // `(x)` is x itself in Python; only a comma (or nothing) makes a tuple.
                return items.count == 1 && !sawComma ? items[0] : .tuple(items)
            case UInt8(ascii: "["): return .list(try sequence(closing: UInt8(ascii: "]"), depth: depth).items)
            case UInt8(ascii: "{"): return .dictionary(try dictionary(depth: depth))
            case UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .integer(try integer())
            default:
                if keyword("True") { return .boolean(true) }
                if keyword("False") { return .boolean(false) }
                if keyword("None") { return .none }
                throw failure("unexpected character \(Self.show(byte))")
            }
        }

        /// A quoted string; a backslash takes the next byte literally.
        mutating func string() throws(NumPyError) -> String {
            let quote = bytes[position]
            position += 1
            var content: [UInt8] = []
            while let byte = current {
                position += 1
                if byte == quote { return String(decoding: content, as: UTF8.self) }
                if byte == UInt8(ascii: "\\") {
                    guard let escaped = current else { break }
                    content.append(escaped)
                    position += 1
                } else if byte == 0x0A {
                    throw failure("a line break inside a string")
                } else {
                    content.append(byte)
                }
            }
            throw failure("an unterminated string")
        }

        /// A decimal integer with an optional sign and Python 2's `L` suffix.
        mutating func integer() throws(NumPyError) -> Int {
            var negative = false
            if current == UInt8(ascii: "-") || current == UInt8(ascii: "+") {
                negative = current == UInt8(ascii: "-")
                position += 1
            }
            var value = 0
            var digits = 0
            while let byte = current, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                let (times10, o1) = value.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times10.addingReportingOverflow(Int(byte - UInt8(ascii: "0")))
                guard !o1, !o2 else { throw failure("an integer too large") }
                value = sum
                digits += 1
                position += 1
            }
            guard digits > 0 else { throw failure("a sign without digits") }
            if current == UInt8(ascii: "L") || current == UInt8(ascii: "l") { position += 1 }
            return negative ? -value : value
        }

        mutating func keyword(_ word: StaticString) -> Bool {
            let count = word.utf8CodeUnitCount
            guard position + count <= bytes.count else { return false }
            for i in 0..<count where bytes[position + i] != word.utf8Start[i] { return false }
            if position + count < bytes.count, Self.isIdentifierByte(bytes[position + count]) { return false }
            position += count
            return true
        }

        /// Comma-separated values up to `closing`, with an optional trailing comma.
        mutating func sequence(closing: UInt8, depth: Int) throws(NumPyError) -> (items: [PythonLiteral], sawComma: Bool) {
            position += 1
            var items: [PythonLiteral] = []
            var sawComma = false
            while true {
                skipWhitespace()
                if current == closing { position += 1; return (items, sawComma) }
                items.append(try value(depth: depth + 1))
                skipWhitespace()
                if current == UInt8(ascii: ",") {
                    sawComma = true
                    position += 1
                } else if current == closing {
                    position += 1
                    return (items, sawComma)
                } else {
                    throw failure(current.map { "unexpected character \(Self.show($0))" } ?? "the header ends inside a sequence")
                }
            }
        }

        mutating func dictionary(depth: Int) throws(NumPyError) -> [DictionaryEntry] {
            position += 1
            var entries: [DictionaryEntry] = []
            while true {
                skipWhitespace()
                if current == UInt8(ascii: "}") { position += 1; return entries }
                let key = try value(depth: depth + 1)
                skipWhitespace()
                guard current == UInt8(ascii: ":") else {
                    throw failure(current.map { "expected ':' but found \(Self.show($0))" } ?? "the header ends inside the dictionary")
                }
                position += 1
                entries.append(DictionaryEntry(key: key, value: try value(depth: depth + 1)))
                skipWhitespace()
                if current == UInt8(ascii: ",") {
                    position += 1
                } else if current == UInt8(ascii: "}") {
                    position += 1
                    return entries
                } else {
                    throw failure(current.map { "unexpected character \(Self.show($0))" } ?? "the header ends inside the dictionary")
                }
            }
        }

        static func isIdentifierByte(_ byte: UInt8) -> Bool {
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "_") || byte >= 0x80
        }

        /// A byte for a message: the character when printable ASCII, else its hex value.
        static func show(_ byte: UInt8) -> String {
            byte >= 0x21 && byte < 0x7F ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x" + String(byte, radix: 16)
        }
    }
}
