import Foundation

/// The Adam optimiser (Kingma & Ba, 2015) over one parameter vector.
struct Adam {
    var learningRate: Float
    let beta1: Float = 0.9
    let beta2: Float = 0.999
    let epsilon: Float = 1e-8
    private var firstMoment: [Float]
    private var secondMoment: [Float]
    private var steps = 0

    init(parameterCount: Int, learningRate: Float) {
        self.learningRate = learningRate
        firstMoment = [Float](repeating: 0, count: parameterCount)
        secondMoment = [Float](repeating: 0, count: parameterCount)
    }

    /// One step: `θ ← θ − lr · m̂ / (√v̂ + ε)` with bias-corrected moments.
    mutating func step(_ parameters: inout [Float], gradient: [Float]) {
        precondition(parameters.count == gradient.count && gradient.count == firstMoment.count)
        steps += 1
        let correction1 = 1 - pow(beta1, Float(steps)), correction2 = 1 - pow(beta2, Float(steps))
        for i in parameters.indices {
            firstMoment[i] = beta1 * firstMoment[i] + (1 - beta1) * gradient[i]
            secondMoment[i] = beta2 * secondMoment[i] + (1 - beta2) * gradient[i] * gradient[i]
            let mean = firstMoment[i] / correction1, variance = secondMoment[i] / correction2
            parameters[i] -= learningRate * mean / (variance.squareRoot() + epsilon)
        }
    }
}
