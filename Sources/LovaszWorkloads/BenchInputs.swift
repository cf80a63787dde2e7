/// The scores and labels of one workload, generated from a seed.
package struct BenchInputs: Sendable {
    /// The workload the inputs were made for.
    package let workload: BenchWorkload
    /// The data model they follow.
    package let data: BenchDataModel
    /// Float32 scores in C order, `workload.scoreCount` of them.
    package var scores: [Float]
    /// One label per pixel, `workload.labelCount` of them, in `0..<workload.labelClasses`.
    package var labels: [UInt8]

    /// Generates the inputs; the same workload, data model and seed give the same numbers on
    /// every machine.
    ///
    /// Image `b` is drawn from its own generator seeded by `(seed, b)`: first its labels, then
    /// its scores channel by channel.
    ///
    /// - Precondition: `workload.labelClasses ≤ 256`.
    package init(workload: BenchWorkload, data: BenchDataModel, seed: UInt64) {
        precondition(workload.labelClasses <= 256, "UInt8 labels hold at most 256 classes")
        self.workload = workload
        self.data = data
        let pixels = workload.pixelsPerImage
        let channels = workload.channels
        let classes = workload.labelClasses
        let softmax = workload.options.loss == .softmax
        let margin = data == .trained ? BenchDataModel.trainedMargin : 0
        var scores = [Float](repeating: 0, count: workload.scoreCount)
        var labels = [UInt8](repeating: 0, count: workload.labelCount)
        scores.withUnsafeMutableBufferPointer { scores in
            labels.withUnsafeMutableBufferPointer { labels in
                for image in 0..<workload.batch {
                    var generator = SeededRandom(seed: seed, stream: UInt64(image))
                    let imageLabels = UnsafeMutableBufferPointer(rebasing: labels[image * pixels ..< (image + 1) * pixels])
                    for p in 0..<pixels { imageLabels[p] = UInt8(generator.below(classes)) }
                    let imageScores = UnsafeMutableBufferPointer(
                        rebasing: scores[image * channels * pixels ..< (image + 1) * channels * pixels])
                    generator.fillNormal(imageScores)
                    guard margin != 0 else { continue }
                    for p in 0..<pixels {
                        let label = Int(imageLabels[p])
                        if softmax {
                            imageScores[label * pixels + p] += margin
                        } else {
                            imageScores[p] += label == 1 ? margin : -margin
                        }
                    }
                }
            }
        }
        self.scores = scores
        self.labels = labels
    }

    /// The shape of the scores.
    package var shape: [Int] { workload.shape }
    /// The size of the scores in bytes (and of a float32 gradient of the same shape).
    package var scoreBytes: Int { scores.count * MemoryLayout<Float>.stride }
}
