import Lovasz
import LovaszTestSupport
import Testing

@Suite struct PredictionsTests {
    @Test(arguments: [[2, 3, 5, 7], [1, 1, 4], [3, 37, 2, 3, 2], [4, 2]]) func argmaxMatchesNaive(shape: [Int]) throws {
        var random = SplitMix64(seed: UInt64(shape.reduce(1, *)))
        // Values on a coarse grid, so that ties occur.
        let scores = (0..<shape.reduce(1, *)).map { _ in Float(random.below(5)) - 2 }
        let predictions = try Predictions.argmax(scores: scores, shape: shape)
        let classes = shape[1], spatial = shape.dropFirst(2).reduce(1, *)
        #expect(predictions.count == shape[0] * spatial)
        for b in 0..<shape[0] {
            for s in 0..<spatial {
                let vector = (0..<classes).map { scores[(b * classes + $0) * spatial + s] }
                #expect(Int(predictions[b * spatial + s]) == NaiveIoU.argmax(vector))
            }
        }
    }

    @Test func argmaxTiesGoToTheLowestClass() throws {
        // [1, 3, 2]: pixel 0 ties classes 1 and 2; pixel 1 ties all three.
        #expect(try Predictions.argmax(scores: [0, 1, 2, 1, 2, 1], shape: [1, 3, 2]) == [1, 0])
    }

    @Test func argmaxRejectsBadInput() throws {
        let error = #expect(throws: MetricsError.self) {
            try Predictions.argmax(scores: [0, 1, 2, .nan, 4, .infinity], shape: [1, 3, 2])
        }
        guard case .nonFiniteScore(let position, let value) = error else {
            Issue.record("expected a non-finite score error, got \(String(describing: error))")
            return
        }
        #expect(position == [0, 1, 1] && value.isNaN)
        #expect(throws: MetricsError.nonFiniteScore(position: [1, 0], value: -.infinity)) {
            try Predictions.argmax(scores: [0, 1, -.infinity, 2], shape: [2, 2])
        }
        for shape in [[6], [1, 0, 6], [1, -3, -2], [2, 3, 2], []] {
            #expect(throws: MetricsError.self, "\(shape)") {
                try Predictions.argmax(scores: [0, 1, 2, 3, 4, 5], shape: shape)
            }
        }
        #expect(try Predictions.argmax(scores: [], shape: [0, 3, 4]) == [])
    }

    @Test func binaryThreshold() throws {
        #expect(try Predictions.binary(scores: [-1, 0, 0.25, 3], shape: [2, 2]) == [0, 0, 1, 1])
        #expect(try Predictions.binary(scores: [0.4, 0.5, 0.6], shape: [1, 1, 3], threshold: 0.5) == [0, 0, 1])
        #expect(throws: MetricsError.nonFiniteScore(position: [0, 0, 2], value: .infinity)) {
            try Predictions.binary(scores: [0.4, 0.5, .infinity], shape: [1, 1, 3])
        }
        #expect(throws: MetricsError.self) { try Predictions.binary(scores: [1, 2], shape: [3]) }
    }
}
