import Dispatch
import Synchronization

/// Runs `body(worker, item)` for every item in `0..<count` on up to `workers` threads.
///
/// Items are handed out dynamically, one at a time, so uneven items balance; `worker` is in
/// `0..<workers` and no two threads run with the same worker index at once, so per-worker
/// scratch memory needs no locking. Results must not depend on which worker ran an item.
package func parallelForEach(count: Int, workers: Int, _ body: (_ worker: Int, _ item: Int) -> Void) {
    let threads = max(1, min(workers, count))
    if threads == 1 {
        for item in 0..<count { body(0, item) }
        return
    }
    let next = Atomic<Int>(0)
    withoutActuallyEscaping(body) { body in
        let work = UncheckedSendable(body)
        DispatchQueue.concurrentPerform(iterations: threads) { worker in
            while true {
                let item = next.wrappingAdd(1, ordering: .relaxed).oldValue
                if item >= count { break }
                work.value(worker, item)
            }
        }
    }
}

/// Carries a value that is not `Sendable` into `concurrentPerform`.
// @unchecked Sendable: only used while concurrentPerform runs and waits; callers give every
// item disjoint memory to write, so no two threads touch the same mutable state.
private struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// Splits `0..<count` into contiguous chunks of about `chunk` items and runs them in parallel.
func parallelChunks(count: Int, chunk: Int, workers: Int, _ body: (Range<Int>) -> Void) {
    let chunks = (count + chunk - 1) / chunk
    parallelForEach(count: chunks, workers: workers) { _, index in
        body(index * chunk ..< min(count, (index + 1) * chunk))
    }
}
