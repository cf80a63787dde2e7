import Foundation
import LovaszNumPy
import LovaszTestSupport
import Testing

/// `lovasz loss` on float16 `.npy` scores: computed as they are, equal to their float32 values.
@Suite struct LossHalfPrecisionTests {
    static var backends: [String] { hostHasOpenCLDevice ? ["cpu", "opencl"] : ["cpu"] }

    @Test("float16 scores give the loss of their float32 values; --grad-dtype scores writes <f2 rounded once")
    func float16Scores() throws {
        let directory = try LossFixtureDirectory()
        let shape = [2, 3, 4, 5]
        var generator = NumPyFixtures.SeededGenerator(seed: 16)
        let half = (0..<shape.reduce(1, *)).map { _ in Float16(Float.random(in: -3...3, using: &generator)) }
        let labels = (0..<(2 * 4 * 5)).map { _ in Int32.random(in: 0..<3, using: &generator) }
        let header = NumPyFixtures.header(descr: "<f2", shape: shape)
        try directory.file("s16.npy", NumPyFixtures.file(header: header, data: NumPyFixtures.bytes(half.map(\.bitPattern))))
        try directory.file("s32.npy", NumPyFixtures.float32(half.map { Float($0) }, shape: shape))
        try directory.file("y.npy", NumPyFixtures.integers(labels, shape: [2, 4, 5]))
        for backend in Self.backends {
            let common = ["--labels", directory.path("y.npy"), "--loss", "softmax", "--backend", backend, "--json"]
            let wide = try runLovasz(["loss", "--scores", directory.path("s32.npy"), "--grad-out", directory.path("g32.npy")] + common)
            let narrow = try runLovasz(
                ["loss", "--scores", directory.path("s16.npy"), "--grad-out", directory.path("g16.npy"), "--grad-dtype", "scores"]
                    + common)
            let float32Gradient = try runLovasz(
                ["loss", "--scores", directory.path("s16.npy"), "--grad-out", directory.path("g16as32.npy")] + common)
            #expect(wide.status == 0 && narrow.status == 0 && float32Gradient.status == 0, "\(narrow.standardError)")
            let wideLoss = try #require(parseLossJSON(wide.standardOutput)["loss"] as? Double)
            #expect(try parseLossJSON(narrow.standardOutput)["loss"] as? Double == wideLoss, "\(backend)")
            let g32 = try #require(NumPyArray(contentsOfFile: directory.path("g32.npy")).floats)
            let g16 = try NumPyArray(contentsOfFile: directory.path("g16.npy"))
            #expect(g16.dtype.scalarType == .float16 && g16.shape == shape)
            #expect(g16.floats == g32.map { Float(Float16($0)) }, "\(backend)")
            #expect(try NumPyArray(contentsOfFile: directory.path("g16as32.npy")).floats == g32, "\(backend)")
        }
    }
}
