import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import LovaszDemo
import LovaszTestSupport
import Testing

/// The chunks of a PNG file: type, data, and whether the stored CRC matches one computed here
/// bit by bit (an implementation independent of ``Checksums``).
private func pngChunks(_ png: [UInt8]) throws -> [(type: String, data: [UInt8], crcMatches: Bool)] {
    try #require(png.count >= 8 && Array(png[0..<8]) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
    func bitwiseCRC(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = (crc >> 1) ^ (crc & 1 == 1 ? 0xEDB8_8320 : 0) }
        }
        return ~crc
    }
    func word(_ at: Int) -> UInt32 { png[at..<at + 4].reduce(0) { $0 << 8 | UInt32($1) } }
    var chunks = [(type: String, data: [UInt8], crcMatches: Bool)]()
    var offset = 8
    while offset < png.count {
        try #require(offset + 12 <= png.count)
        let length = Int(word(offset))
        try #require(offset + 12 + length <= png.count)
        let type = String(decoding: png[offset + 4 ..< offset + 8], as: UTF8.self)
        let data = Array(png[offset + 8 ..< offset + 8 + length])
        let crcMatches = word(offset + 8 + length) == bitwiseCRC(png[offset + 4 ..< offset + 8 + length])
        chunks.append((type, data, crcMatches))
        offset += 12 + length
    }
    return chunks
}

/// `python3` on the `PATH`, if any.
private let python3: URL? = {
    let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
    let candidates = directories.map { URL(fileURLWithPath: String($0)).appendingPathComponent("python3") }
    return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
}()

/// Runs `python3 -c script arguments…` and returns its standard output, or fails the test.
private func runPython(_ script: String, _ arguments: [String]) throws -> String {
    let executable: URL = try #require(python3)
    let process = Process()
    process.executableURL = executable
    process.arguments = ["-c", script] + arguments
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    #expect(process.terminationStatus == 0)
    return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
}

private func temporaryFile(_ name: String, _ bytes: [UInt8]) throws -> URL {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lovasz-demo-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let url = directory.appendingPathComponent(name)
    try Data(bytes).write(to: url)
    return url
}

/// Images with long runs, short runs and noise, indexed and RGB.
private let sampleImages: [RasterImage] = {
    var state: UInt32 = 12345
    func next() -> UInt8 { state = state &* 1_103_515_245 &+ 12345; return UInt8(state >> 24) }
    let mask = (0..<(37 * 23)).map { i -> UInt8 in i % 37 < 20 ? 0 : (i / 37 < 10 ? 1 : 255) }
    let noisy = (0..<(9 * 7)).map { _ in next() % 4 }
    let rgb = (0..<(5 * 4 * 3)).map { _ in next() }
    let long = [UInt8](repeating: 7, count: 300 * 3)
    return [
        RasterImage(width: 37, height: 23, indices: mask, palette: VOCPalette.colours),
        RasterImage(width: 9, height: 7, indices: noisy, palette: Array(VOCPalette.colours.prefix(4))),
        RasterImage(width: 5, height: 4, rgb: rgb),
        RasterImage(width: 300, height: 3, indices: long, palette: VOCPalette.colours),
        RasterImage(width: 1, height: 1, rgb: [1, 2, 3]),
    ]
}()

@Suite("PNG, PPM and SVG writers")
struct ImageWriterTests {
    @Test("CRC-32 and Adler-32 match their published check values")
    func checksums() {
        #expect(Checksums.crc32(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(Checksums.crc32([UInt8]()) == 0)
        #expect(Checksums.adler32(Array("Wikipedia".utf8)) == 0x11E6_0398)
        #expect(Checksums.adler32([]) == 1)
        // Past the 5552-byte block of the modular reduction.
        let long = [UInt8](repeating: 0xFF, count: 20_000)
        var a: UInt64 = 1, b: UInt64 = 0
        for byte in long { a = (a + UInt64(byte)) % 65521; b = (b + a) % 65521 }
        #expect(Checksums.adler32(long) == UInt32(b << 16 | a))
    }

    @Test("PNG structure: signature, IHDR, PLTE, IDAT, IEND, every CRC", arguments: sampleImages.indices)
    func pngStructure(_ index: Int) throws {
        let image = sampleImages[index]
        let chunks = try pngChunks(image.pngData())
        var expectedTypes = ["IHDR", "IDAT", "IEND"]
        if case .indexed = image.pixels { expectedTypes.insert("PLTE", at: 1) }
        #expect(chunks.map(\.type) == expectedTypes)
        #expect(chunks.allSatisfy { $0.crcMatches })
        let header = chunks[0].data
        #expect(header.count == 13)
        #expect(header[0..<4].reduce(0) { $0 << 8 | Int($1) } == image.width)
        #expect(header[4..<8].reduce(0) { $0 << 8 | Int($1) } == image.height)
        #expect(header[8] == 8)
        if case .indexed(_, let palette) = image.pixels {
            #expect(header[9] == 3)
            #expect(chunks[1].data.count == 3 * palette.count)
        } else {
            #expect(header[9] == 2)
        }
        // zlib header: deflate, a valid check value.
        let idat = chunks[chunks.count - 2].data
        #expect(idat[0] & 0x0F == 8)
        #expect((Int(idat[0]) << 8 | Int(idat[1])) % 31 == 0)
    }

    @Test("python3's zlib inflates every PNG to the exact filtered rows",
          .enabled(if: python3 != nil, "needs python3 on the PATH"), arguments: sampleImages.indices)
    func pngDecodesWithPython(_ index: Int) throws {
        let image = sampleImages[index]
        let url = try temporaryFile("image.png", image.pngData())
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        let script = """
        import sys, zlib, struct, hashlib
        data = open(sys.argv[1], 'rb').read()
        pos, idat = 8, b''
        while pos < len(data):
            n, = struct.unpack('>I', data[pos:pos+4]); t = data[pos+4:pos+8]
            if zlib.crc32(data[pos+4:pos+8+n]) != struct.unpack('>I', data[pos+8+n:pos+12+n])[0]: sys.exit(3)
            if t == b'IDAT': idat += data[pos+8:pos+8+n]
            pos += 12 + n
        raw = zlib.decompress(idat)
        print(len(raw), hashlib.sha256(raw).hexdigest())
        """
        let output = try runPython(script, [url.path])
        var raw = [UInt8]()
        let (rowBytes, samples): (Int, [UInt8]) = {
            switch image.pixels {
            case .indexed(let indices, _): return (image.width, indices)
            case .rgb(let bytes): return (3 * image.width, bytes)
            }
        }()
        for row in 0..<image.height { raw += [0] + samples[row * rowBytes ..< (row + 1) * rowBytes] }
        let rawURL = try temporaryFile("raw.bin", raw)
        defer { try? FileManager.default.removeItem(at: rawURL.deletingLastPathComponent()) }
        let expected = try runPython("import sys, hashlib; d = open(sys.argv[1], 'rb').read(); print(len(d), hashlib.sha256(d).hexdigest())", [rawURL.path])
        #expect(output == expected)
    }

    @Test("run-length matches compress a mask")
    func compression() {
        let mask = RasterImage(width: 200, height: 200, indices: [UInt8](repeating: 1, count: 40_000), palette: VOCPalette.colours)
        #expect(mask.pngData().count < 2_000)
    }

    @Test("PPM: P6 header and the palette applied")
    func ppm() {
        let image = RasterImage(width: 2, height: 1, indices: [1, 255], palette: VOCPalette.colours)
        let ppm = image.ppmData()
        let header = Array("P6\n2 1\n255\n".utf8)
        #expect(Array(ppm.prefix(header.count)) == header)
        #expect(Array(ppm.dropFirst(header.count)) == [128, 0, 0, 224, 224, 192])
    }

    @Test("the VOC palette: background black, class 1 dark red, class 2 dark green, void cream")
    func palette() {
        let colours = VOCPalette.colours
        #expect(colours.count == 256)
        #expect(colours[0] == RGB(0, 0, 0) && colours[1] == RGB(128, 0, 0) && colours[2] == RGB(0, 128, 0))
        #expect(colours[3] == RGB(128, 128, 0) && colours[15] == RGB(192, 128, 128) && colours[255] == RGB(224, 224, 192))
    }

    @Test("SVG: well-formed XML with one polyline per series, the legend and the labels")
    func svg() throws {
        let plot = LinePlot(
            title: "A & B <test>", xLabel: "bias b", yLabel: "loss",
            series: [
                .init(name: "first", colour: RGB(255, 0, 0), points: [(0, 1), (1, 0.5), (2, 0.25)], marked: [2]),
                .init(name: "second", colour: RGB(0, 0, 255), points: [(0, 0), (2, 2)], dashed: true),
            ])
        let text = plot.svg()
        #expect(text.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        let parser = XMLParser(data: Data(text.utf8))
        let collector = ElementCollector()
        parser.delegate = collector
        #expect(parser.parse(), "the SVG is not well-formed XML")
        #expect(collector.elements.filter { $0 == "polyline" }.count == 2)
        #expect(collector.text.contains("A & B <test>"))
        for label in ["first", "second", "bias b", "loss", "minimum"] { #expect(collector.text.contains(label)) }
    }
}

/// Collects element names and text of an XML document.
private final class ElementCollector: NSObject, XMLParserDelegate {
    var elements = [String]()
    var text = ""
    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        elements.append(name)
    }
    func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }
    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) { text += "\n" }
}
