import Foundation
import Lovasz
import LovaszWorkloads
import Testing

/// The standard workloads, their seeded data and their segment-element count.
@Suite struct BenchWorkloadTests {
    @Test func standardWorkloadsHaveThePublishedShapes() throws {
        let expected: [String: (shape: [Int], loss: LovaszLoss, classes: ClassSelection, perImage: Bool)] = [
            "voc": ([8, 21, 321, 321], .softmax, .present, false),
            "voc-per-image": ([8, 21, 321, 321], .softmax, .present, true),
            "cityscapes": ([2, 19, 512, 1024], .softmax, .present, false),
            "cityscapes-per-image": ([2, 19, 512, 1024], .softmax, .present, true),
            "ade20k": ([4, 150, 128, 128], .softmax, .all, false),
            "ade20k-per-image": ([4, 150, 128, 128], .softmax, .all, true),
            "hinge": ([8, 321, 321], .hinge, .present, true),
            "hinge-per-batch": ([8, 321, 321], .hinge, .present, false),
        ]
        #expect(BenchWorkload.standard.map(\.name).sorted() == expected.keys.sorted())
        for workload in BenchWorkload.standard {
            let want = try #require(expected[workload.name])
            #expect(workload.shape == want.shape, "\(workload.name)")
            #expect(workload.options.loss == want.loss, "\(workload.name)")
            #expect(workload.options.perImage == want.perImage, "\(workload.name)")
            if want.loss == .softmax { #expect(workload.options.classes == want.classes, "\(workload.name)") }
            #expect(workload.options.ignoreIndex == nil)
            #expect(BenchWorkload.named(workload.name) == workload)
        }
        #expect(BenchWorkload.named("imagenet") == nil)
    }

    @Test(arguments: [
        ("voc", BenchSize.tiny, [2, 21, 11, 11]),
        ("voc", .small, [8, 21, 81, 81]),
        ("voc", .standard, [8, 21, 321, 321]),
        ("cityscapes", .tiny, [2, 19, 16, 32]),
        ("ade20k", .tiny, [2, 150, 4, 4]),
        ("hinge", .tiny, [2, 11, 11]),
        ("hinge", .small, [8, 81, 81]),
    ])
    func scaledShapes(name: String, size: BenchSize, shape: [Int]) throws {
        let workload = try #require(BenchWorkload.named(name)).scaled(size)
        #expect(workload.shape == shape)
        #expect(workload.name == name)
        #expect(workload.scoreCount == shape.reduce(1, *))
    }

    @Test func inputsAreSeededAndInRange() throws {
        let workload = try #require(BenchWorkload.named("voc")).scaled(.tiny)
        let first = BenchInputs(workload: workload, data: .random, seed: 7)
        let again = BenchInputs(workload: workload, data: .random, seed: 7)
        let other = BenchInputs(workload: workload, data: .random, seed: 8)
        #expect(first.scores == again.scores && first.labels == again.labels)
        #expect(first.scores != other.scores && first.labels != other.labels)
        #expect(first.scores.count == 2 * 21 * 11 * 11 && first.labels.count == 2 * 11 * 11)
        #expect(first.labels.allSatisfy { $0 < 21 })
        #expect(first.scores.allSatisfy { $0.isFinite })
        let hinge = BenchInputs(workload: try #require(BenchWorkload.named("hinge")).scaled(.tiny), data: .random, seed: 7)
        #expect(hinge.labels.allSatisfy { $0 <= 1 } && Set(hinge.labels) == [0, 1])
    }

    /// Random data: logits with mean 0 and variance 1, labels uniform (checked on 40 000 values
    /// and 10 000 labels, tolerances of about 6 standard errors).
    @Test func randomDataMoments() {
        let workload = BenchWorkload(name: "moments", summary: "", shape: [1, 4, 100, 100], options: .softmax())
        let inputs = BenchInputs(workload: workload, data: .random, seed: 11)
        let values = inputs.scores.map(Double.init)
        let mean = values.reduce(0, +) / Double(values.count)
        let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)
        #expect(abs(mean) < 0.03)
        #expect(abs(variance - 1) < 0.05)
        for label in 0..<4 {
            let share = Double(inputs.labels.count { $0 == label }) / Double(inputs.labels.count)
            #expect(abs(share - 0.25) < 0.03, "class \(label): \(share)")
        }
    }

    /// Trained data: the true class's logit is 4 higher on average; the hinge logit has the
    /// label's sign with margin 4.
    @Test func trainedDataHasTheMargin() {
        let softmax = BenchWorkload(name: "margin", summary: "", shape: [2, 3, 50, 50], options: .softmax())
        let inputs = BenchInputs(workload: softmax, data: .trained, seed: 3)
        let pixels = 2500
        var trueSum = 0.0, otherSum = 0.0
        for image in 0..<2 {
            for p in 0..<pixels {
                let label = Int(inputs.labels[image * pixels + p])
                for c in 0..<3 {
                    let value = Double(inputs.scores[(image * 3 + c) * pixels + p])
                    if c == label { trueSum += value } else { otherSum += value }
                }
            }
        }
        let difference = trueSum / Double(2 * pixels) - otherSum / Double(4 * pixels)
        #expect(abs(difference - 4) < 0.15, "\(difference)")

        let binary = BenchWorkload(name: "margin", summary: "", shape: [2, 50, 50], options: .hinge())
        let hinge = BenchInputs(workload: binary, data: .trained, seed: 3)
        let signed = zip(hinge.scores, hinge.labels).map { Double($0) * (Double($1) * 2 - 1) }
        #expect(abs(signed.reduce(0, +) / Double(signed.count) - 4) < 0.15)
    }

    /// Generated inputs: every class is present in the tiny VOC batch, so the count is
    /// classes × pixels.
    @Test func segmentElementsOfGeneratedInputs() throws {
        let inputs = BenchInputs(workload: try #require(BenchWorkload.named("voc")).scaled(.tiny), data: .random, seed: 1)
        let present = Set(inputs.labels).count
        let result = try LovaszEngine(backend: .cpu).loss(
            scores: inputs.scores, shape: inputs.shape, labels: inputs.labels, options: inputs.workload.options)
        #expect(result.segmentElements == present * 2 * 11 * 11)
    }

    #if os(Linux)
    /// The peak is the process's: other suites running at the same time allocate and free
    /// too, so a measurement they disturb is taken again (at most five times).
    @Test func residentMemoryPeakCanBeReset() throws {
        var outcome: (peakRose: Bool, resetDropped: Bool) = (false, false)
        for _ in 0..<5 {
            #expect(ResidentMemory.resetPeak())
            let before = try #require(ResidentMemory.currentBytes())
            #expect(before > 0)
            // Touch 64 MiB, release it, and the peak stays above the current size until reset.
            do {
                let block = [UInt8](repeating: 1, count: 64 << 20)
                #expect(block[block.count / 2] == 1)
            }
            let peak = try #require(ResidentMemory.peakBytes())
            #expect(ResidentMemory.resetPeak())
            let reset = try #require(ResidentMemory.peakBytes())
            outcome = (peak >= before + (60 << 20), reset < peak - (32 << 20))
            if outcome.peakRose && outcome.resetDropped { break }
        }
        #expect(outcome.peakRose, "the peak did not rise by the 64 MiB touched")
        #expect(outcome.resetDropped, "the reset did not bring the peak down")
    }
    #endif
}
