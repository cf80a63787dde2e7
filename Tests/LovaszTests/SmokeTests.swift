import Testing
@testable import Lovasz

@Test func handComputedGradient() {
    let g = lovaszGradient(sortedForeground: [true, false, true, false])
    #expect(g == [0.5, 1.0 / 6, 1.0 / 3, 0])
}

@Test func smokeSoftmax() throws {
    let engine = try LovaszEngine(backend: .cpu)
    let scores: [Float] = [1, 2, 0.5, 0.1, /* class1 */ 0.3, 0.1, 2, 3]
    let labels: [Int32] = [0, 0, 1, 1]
    let (r, g) = try engine.lossAndGradient(scores: scores, shape: [1, 2, 4], labels: labels, options: .softmax())
    print(r, g)
    let h = try engine.lossAndGradient(scores: [2, -1, 0.5, 0.2], shape: [1, 4], labels: [1, 0, 1, 0] as [UInt8], options: .hinge())
    print(h)
}
