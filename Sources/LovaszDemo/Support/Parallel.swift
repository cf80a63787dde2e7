import Foundation
import Lovasz

/// The number of processors the demo spreads its work over.
var onlineProcessors: Int { ProcessInfo.processInfo.activeProcessorCount }

/// Runs `body(task)` for every task in `0..<count` on every processor, with the loss
/// library's worker pool.
///
/// Tasks must write disjoint memory; results must not depend on the thread that ran a task.
func parallelTasks(_ count: Int, _ body: (Int) -> Void) {
    parallelForEach(count: count, workers: onlineProcessors) { _, task in body(task) }
}
