import Foundation
import LovaszWorkloads

/// The data of the training demo: images of random filled triangles of two object classes on
/// a background class, a void band (label 255, ignored) along every boundary, and noisy
/// one-hot features, as in the reference's multiclass demo.
public struct TriangleScenes: Sendable {
    /// The ignored label.
    public static let void: UInt8 = 255
    /// Background, and two object classes.
    public static let classCount = 3

    /// The number of images.
    public let count: Int
    /// The side of each square image in pixels.
    public let size: Int
    /// Labels `[count, size, size]`: a class in `0..<3`, or ``void``.
    public let labels: [UInt8]
    /// Features `[count, 3, size, size]`: the one-hot code of the true class (void pixels
    /// keep the class under them) plus Gaussian noise.
    public let features: [Float]

    /// Pixels per image.
    public var pixelsPerImage: Int { size * size }

    /// Draws the scenes.
    ///
    /// - Parameters:
    ///   - count: the number of images, `≥ 1`.
    ///   - size: the image side, `≥ 8`.
    ///   - noise: the standard deviation of the noise added to the one-hot features, `≥ 0`.
    ///   - seed: the seed of every draw.
    public init(count: Int = 5, size: Int = 200, noise: Double = 1.0, seed: UInt64 = 1) {
        precondition(count >= 1 && size >= 8 && noise >= 0, "at least one image of 8x8 pixels and a non-negative noise")
        var random = SeededRandom(seed: seed)
        let pixels = size * size
        var labels = [UInt8](repeating: 0, count: count * pixels)
        var features = [Float](repeating: 0, count: count * Self.classCount * pixels)
        for image in 0..<count {
            var clean = [UInt8](repeating: 0, count: pixels)
            for _ in 0..<(1 + random.below(4)) {
                let triangle = Self.randomTriangle(size: Double(size), random: &random)
                let label = UInt8(1 + random.below(2))
                for y in 0..<size {
                    for x in 0..<size where triangle.contains(x: Double(x) + 0.5, y: Double(y) + 0.5) {
                        clean[y * size + x] = label
                    }
                }
            }
            for y in 0..<size {
                for x in 0..<size {
                    let pixel = y * size + x
                    let here = clean[pixel]
                    let onBoundary = (y > 0 && clean[pixel - size] != here) || (y < size - 1 && clean[pixel + size] != here)
                        || (x > 0 && clean[pixel - 1] != here) || (x < size - 1 && clean[pixel + 1] != here)
                    labels[image * pixels + pixel] = onBoundary ? Self.void : clean[pixel]
                    for c in 0..<Self.classCount {
                        let oneHot: Double = Int(clean[pixel]) == c ? 1 : 0
                        features[(image * Self.classCount + c) * pixels + pixel] = Float(oneHot + noise * random.normal())
                    }
                }
            }
        }
        self.count = count
        self.size = size
        self.labels = labels
        self.features = features
    }

    /// The classes each image contains (non-void pixels), ascending.
    public var presence: [[Int]] {
        (0..<count).map { image in
            var seen = [Bool](repeating: false, count: Self.classCount)
            for label in labels[image * pixelsPerImage ..< (image + 1) * pixelsPerImage] where label != Self.void {
                seen[Int(label)] = true
            }
            return (0..<Self.classCount).filter { seen[$0] }
        }
    }

    private struct Triangle {
        var a: (x: Double, y: Double), b: (x: Double, y: Double), c: (x: Double, y: Double)

        func contains(x: Double, y: Double) -> Bool {
            func side(_ p: (x: Double, y: Double), _ q: (x: Double, y: Double)) -> Double {
                (q.x - p.x) * (y - p.y) - (q.y - p.y) * (x - p.x)
            }
            let d1 = side(a, b), d2 = side(b, c), d3 = side(c, a)
            return (d1 >= 0 && d2 >= 0 && d3 >= 0) || (d1 <= 0 && d2 <= 0 && d3 <= 0)
        }
    }

    /// A triangle around a random centre, its corners at random angles and distances of 10
    /// to 40 % of the image side.
    private static func randomTriangle(size: Double, random: inout SeededRandom) -> Triangle {
        let cx = random.uniform(in: 0.15 * size...0.85 * size), cy = random.uniform(in: 0.15 * size...0.85 * size)
        let start = random.uniform(in: 0...(2 * Double.pi))
        let corners = (0..<3).map { k -> (x: Double, y: Double) in
            let angle = start + Double(k) * 2 * .pi / 3 + random.uniform(in: -0.5...0.5)
            let radius = size * random.uniform(in: 0.1...0.4)
            return (cx + radius * cos(angle), cy + radius * sin(angle))
        }
        return Triangle(a: corners[0], b: corners[1], c: corners[2])
    }
}
