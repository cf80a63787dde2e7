/// An 8-bit image, either palette indices or RGB, that can be written as PNG or PPM.
public struct RasterImage: Sendable, Equatable {
    /// How the pixels are stored.
    public enum Pixels: Sendable, Equatable {
        /// One palette index per pixel and the palette (at most 256 RGB colours).
        case indexed([UInt8], palette: [RGB])
        /// Three bytes (R, G, B) per pixel.
        case rgb([UInt8])
    }

    /// The size in pixels, both at least 1.
    public let width: Int
    public let height: Int
    /// The pixels, row by row from the top.
    public let pixels: Pixels

    /// An image of palette indices. Every index must name a colour of `palette`.
    ///
    /// - Precondition: `indices.count == width·height`, `1 ≤ palette.count ≤ 256`, `width, height ≥ 1`.
    public init(width: Int, height: Int, indices: [UInt8], palette: [RGB]) {
        precondition(width >= 1 && height >= 1 && indices.count == width * height, "indices do not fill the image")
        precondition((1...256).contains(palette.count), "a PNG palette holds 1 to 256 colours")
        self.width = width
        self.height = height
        self.pixels = .indexed(indices, palette: palette)
    }

    /// An RGB image.
    ///
    /// - Precondition: `rgb.count == 3·width·height`, `width, height ≥ 1`.
    public init(width: Int, height: Int, rgb: [UInt8]) {
        precondition(width >= 1 && height >= 1 && rgb.count == 3 * width * height, "RGB bytes do not fill the image")
        self.width = width
        self.height = height
        self.pixels = .rgb(rgb)
    }

    /// Three bytes per pixel, the palette applied.
    public var rgbBytes: [UInt8] {
        switch pixels {
        case .rgb(let bytes): return bytes
        case .indexed(let indices, let palette):
            var bytes = [UInt8]()
            bytes.reserveCapacity(indices.count * 3)
            for index in indices {
                let colour = Int(index) < palette.count ? palette[Int(index)] : RGB(0, 0, 0)
                bytes += [colour.red, colour.green, colour.blue]
            }
            return bytes
        }
    }

    /// The PNG file: signature, IHDR, PLTE (indexed images), one IDAT (zlib, fixed Huffman
    /// codes with run-length matches), IEND; every chunk with its CRC-32.
    public func pngData() -> [UInt8] {
        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        let colourType: UInt8
        let rowBytes: Int
        let samples: [UInt8]
        switch pixels {
        case .indexed(let indices, _): colourType = 3; rowBytes = width; samples = indices
        case .rgb(let bytes): colourType = 2; rowBytes = 3 * width; samples = bytes
        }
        var header = Self.bigEndian(UInt32(width)) + Self.bigEndian(UInt32(height))
        header += [8, colourType, 0, 0, 0]  // bit depth, colour type, deflate, filter set 0, no interlace
        Self.appendChunk("IHDR", header, to: &png)
        if case .indexed(_, let palette) = pixels {
            Self.appendChunk("PLTE", palette.flatMap { [$0.red, $0.green, $0.blue] }, to: &png)
        }
        var raw = [UInt8]()
        raw.reserveCapacity(height * (rowBytes + 1))
        for row in 0..<height {
            raw.append(0)  // filter type 0: none
            raw += samples[row * rowBytes ..< (row + 1) * rowBytes]
        }
        Self.appendChunk("IDAT", ZlibEncoder.compress(raw), to: &png)
        Self.appendChunk("IEND", [], to: &png)
        return png
    }

    /// The binary PPM (P6) file.
    public func ppmData() -> [UInt8] {
        Array("P6\n\(width) \(height)\n255\n".utf8) + rgbBytes
    }

    private static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }

    private static func appendChunk(_ type: String, _ data: [UInt8], to png: inout [UInt8]) {
        let typeBytes = Array(type.utf8)
        png += bigEndian(UInt32(data.count))
        png += typeBytes
        png += data
        png += bigEndian(Checksums.crc32(typeBytes + data))
    }
}

/// An 8-bit RGB colour.
public struct RGB: Sendable, Hashable {
    /// The channels, 0 to 255.
    public var red: UInt8, green: UInt8, blue: UInt8
    /// A colour from its channels.
    public init(_ red: UInt8, _ green: UInt8, _ blue: UInt8) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    /// `#rrggbb`, for SVG.
    public var hex: String {
        let digits = Array("0123456789abcdef")
        return "#" + String([red, green, blue].flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] })
    }
}

/// The Pascal VOC colour map: class `c` gets the colour whose bits are those of `c`
/// interleaved (class 0 black, 1 dark red, 2 dark green, …), and the void label 255 is
/// cream (224, 224, 192).
public enum VOCPalette {
    /// The 256 colours, indexed by label.
    public static let colours: [RGB] = (0..<256).map { label in
        var r = 0, g = 0, b = 0, c = label
        for bit in 0..<8 {
            r |= (c >> 0 & 1) << (7 - bit)
            g |= (c >> 1 & 1) << (7 - bit)
            b |= (c >> 2 & 1) << (7 - bit)
            c >>= 3
        }
        return RGB(UInt8(r), UInt8(g), UInt8(b))
    }
}
