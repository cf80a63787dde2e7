import LovaszWorkloads

/// The synthetic binary data of the paper's Sec. 4.1: images holding one disc of random
/// radius, and one Gaussian feature per pixel whose mean depends on the class.
public struct SyntheticCircles: Sendable {
    /// The number of images `N`.
    public let count: Int
    /// The side of each square image in pixels.
    public let size: Int
    /// Ground truth, `count · size · size` values in {0, 1} (1 = inside the disc), C order.
    public let labels: [UInt8]
    /// The feature of each pixel: `N(+1/2, 1)` on the foreground, `N(−1/2, 1)` on the background.
    public let features: [Float]

    /// Draws the data set.
    ///
    /// - Parameters:
    ///   - count: the number of images, `≥ 1` (the paper uses 10).
    ///   - size: the image side, `≥ 4` (the paper uses 50).
    ///   - radii: the range of the disc radii in pixels; each centre is drawn so that the disc
    ///     fits in the image.
    ///   - seed: the seed of every draw.
    public init(count: Int = 10, size: Int = 50, radii: ClosedRange<Double> = 4...15, seed: UInt64 = 2018) {
        precondition(count >= 1 && size >= 4, "at least one image of 4x4 pixels")
        var random = SeededRandom(seed: seed)
        var labels = [UInt8](repeating: 0, count: count * size * size)
        var features = [Float](repeating: 0, count: labels.count)
        for image in 0..<count {
            let radius = min(random.uniform(in: radii), Double(size) / 2 - 1)
            let cx = random.uniform(in: radius...(Double(size) - radius))
            let cy = random.uniform(in: radius...(Double(size) - radius))
            for y in 0..<size {
                for x in 0..<size {
                    let dx = Double(x) + 0.5 - cx, dy = Double(y) + 0.5 - cy
                    let inside = dx * dx + dy * dy <= radius * radius
                    let pixel = (image * size + y) * size + x
                    labels[pixel] = inside ? 1 : 0
                    features[pixel] = Float((inside ? 0.5 : -0.5) + random.normal())
                }
            }
        }
        self.count = count
        self.size = size
        self.labels = labels
        self.features = features
    }

    /// The fraction of foreground pixels.
    public var foregroundFraction: Double {
        Double(labels.reduce(0) { $0 + Int($1) }) / Double(labels.count)
    }
}
