import Synchronization
import Testing
@testable import Lovasz

/// The runs of pixels of the softmax and its back-propagation
/// (``Probabilities/forEachPixelRun(shape:workers:_:)``): every pixel of every image in exactly
/// one run, whatever the thread count and however the threads share the runs.
@Suite("Pixel runs")
struct PixelRunTests {
    @Test(
        "every pixel once, in runs of at most pixelChunk inside one image",
        arguments: [[1, 3, 1], [50, 2, 100], [3, 2, 2500], [2, 3, 40_000], [5, 1, 1024], [1, 1, 3000]], [1, 2, 3, 8])
    func everyPixelOnce(dimensions: [Int], workers: Int) throws {
        let shape = try ProblemShape(scores: dimensions, loss: .softmax)
        let (batch, spatial) = (shape.batch, shape.spatial)
        let visits = Mutex([UInt8](repeating: 0, count: batch * spatial))
        let badRun = Atomic<Bool>(false)
        Probabilities.forEachPixelRun(shape: shape, workers: workers) { image, start, length in
            guard image >= 0, image < batch, start >= 0, length > 0, length <= Probabilities.pixelChunk,
                start + length <= spatial
            else {
                badRun.store(true, ordering: .relaxed)
                return
            }
            visits.withLock { for s in start ..< start + length { $0[image * spatial + s] &+= 1 } }
        }
        let anyBadRun = badRun.load(ordering: .relaxed)
        #expect(!anyBadRun)
        #expect(visits.withLock { $0.allSatisfy { $0 == 1 } })
    }
}
