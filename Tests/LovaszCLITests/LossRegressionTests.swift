import Lovasz
import LovaszTestSupport
import Testing

/// Regression tests for problems once found in the engine.
@Suite("lovasz loss: engine regressions")
struct LossKnownIssueTests {
    /// `LovaszError.labelOutOfRange` once stored the label as `Int64`, so a larger unsigned
    /// label was reported as `Int64.max`, a value not in the file.
    @Test("a uint64 label above Int64.max is reported with its own value")
    func hugeUnsignedLabel() throws {
        let directory = try LossFixtureDirectory()
        let scores = try directory.file("s.npy", NumPyFixtures.float32([1, -1], shape: [1, 2]))
        let labels = try directory.file("y.npy", NumPyFixtures.integers([1, UInt64.max], shape: [1, 2]))
        let outcome = try runLovasz(["loss", "--loss", "hinge", "--scores", scores, "--labels", labels])
        #expect(outcome.status == 2)
        #expect(outcome.standardError.contains("18446744073709551615"), "\(outcome.standardError)")
    }
}
