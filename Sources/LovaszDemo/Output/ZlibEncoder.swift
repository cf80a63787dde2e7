/// A small zlib (RFC 1950) encoder: one DEFLATE block with the fixed Huffman codes of RFC 1951
/// (Sec. 3.2.6), compressing runs of a repeated byte as matches at distance 1.
///
/// That is all a segmentation mask needs (long runs of one palette index); anything else is
/// stored as literals, at most 9/8 of its size.
public enum ZlibEncoder {
    /// The zlib stream of `data`: header, one fixed-Huffman DEFLATE block, Adler-32.
    public static func compress(_ data: [UInt8]) -> [UInt8] {
        var writer = BitWriter()
        writer.write(bits: 1, count: 1)  // BFINAL: the last block
        writer.write(bits: 1, count: 2)  // BTYPE = 01: fixed Huffman codes
        var index = 0
        while index < data.count {
            var run = 0
            if index > 0 {
                let previous = data[index - 1]
                while run < 258 && index + run < data.count && data[index + run] == previous { run += 1 }
            }
            if run >= 3 {
                writeLength(run, into: &writer)
                writer.writeHuffman(code: 0, length: 5)  // distance code 0: distance 1
                index += run
            } else {
                writeLiteral(Int(data[index]), into: &writer)
                index += 1
            }
        }
        writeLiteral(256, into: &writer)  // end of block
        let adler = Checksums.adler32(data)
        return [0x78, 0x01] + writer.finish()
            + [UInt8(adler >> 24), UInt8(adler >> 16 & 0xFF), UInt8(adler >> 8 & 0xFF), UInt8(adler & 0xFF)]
    }

    /// Writes literal/length symbol `symbol` (0...287) with its fixed Huffman code.
    private static func writeLiteral(_ symbol: Int, into writer: inout BitWriter) {
        switch symbol {
        case 0...143: writer.writeHuffman(code: 0x30 + symbol, length: 8)
        case 144...255: writer.writeHuffman(code: 0x190 + symbol - 144, length: 9)
        case 256...279: writer.writeHuffman(code: symbol - 256, length: 7)
        default: writer.writeHuffman(code: 0xC0 + symbol - 280, length: 8)
        }
    }

    private static let lengthBases = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
                                      35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
    private static let lengthExtraBits = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2,
                                          3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]

    /// Writes a match length (3...258): its symbol 257...285 and the extra bits.
    private static func writeLength(_ length: Int, into writer: inout BitWriter) {
        var code = lengthBases.count - 1
        while lengthBases[code] > length { code -= 1 }
        writeLiteral(257 + code, into: &writer)
        if lengthExtraBits[code] > 0 {
            writer.write(bits: length - lengthBases[code], count: lengthExtraBits[code])
        }
    }
}

/// Packs bits least significant first, as DEFLATE does.
struct BitWriter {
    private(set) var bytes: [UInt8] = []
    private var buffer: UInt64 = 0
    private var used = 0

    /// Writes the low `count` bits of `bits`, least significant first.
    mutating func write(bits: Int, count: Int) {
        buffer |= UInt64(bits & ((1 << count) - 1)) << used
        used += count
        while used >= 8 {
            bytes.append(UInt8(buffer & 0xFF))
            buffer >>= 8
            used -= 8
        }
    }

    /// Writes a Huffman code, most significant bit first.
    mutating func writeHuffman(code: Int, length: Int) {
        var reversed = 0
        for bit in 0..<length { reversed |= (code >> bit & 1) << (length - 1 - bit) }
        write(bits: reversed, count: length)
    }

    /// The bytes written, the last one padded with zero bits.
    mutating func finish() -> [UInt8] {
        if used > 0 { bytes.append(UInt8(buffer & 0xFF)); buffer = 0; used = 0 }
        return bytes
    }
}
