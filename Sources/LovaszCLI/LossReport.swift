import Foundation
import Lovasz

/// What `lovasz loss` prints: one JSON object or one line of text.
struct LossReport: Encodable {
    let loss: Double
    let backend: String
    let device: String
    let classesCounted: Int
    let seconds: Double
    let segments: Int

    init(result: LossResult, seconds: Double) {
        self.loss = result.loss
        self.backend = result.backend.rawValue
        self.device = result.device
        self.classesCounted = result.classesCounted
        self.seconds = seconds
        self.segments = result.segments
    }

    /// One JSON object on one line, keys sorted.
    func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(self) else { return "{}" }  // finite numbers always encode
        return String(decoding: data, as: UTF8.self)
    }

    /// A short human-readable line.
    func line(loss kind: LovaszLoss, gradientFile: String?) -> String {
        let classes = "\(classesCounted) class\(classesCounted == 1 ? "" : "es") counted"
        let segmentsText = "\(segments) segment\(segments == 1 ? "" : "s")"
        let time = String(format: "%.6f s", seconds)
        var text = "\(kind) loss \(loss) (\(classes), \(segmentsText); \(backend) on \(device), \(time))"
        if let gradientFile { text += "; gradient written to \(gradientFile)" }
        return text
    }
}
