/// Runs `body(worker, item)` for every item in `0..<count` on up to `workers` threads: the
/// calling thread and threads of the process's ``WorkerPool`` (none created per call).
///
/// Items are handed out dynamically, one at a time, so uneven items balance; `worker` is in
/// `0..<workers` and no two threads run with the same worker index at once, so per-worker
/// scratch memory needs no locking. Results must not depend on which worker ran an item (or
/// how many threads ran: a busy pool runs the items on the calling thread alone).
package func parallelForEach(count: Int, workers: Int, _ body: (_ worker: Int, _ item: Int) -> Void) {
    WorkerPool.shared.run(count: count, workers: max(1, workers), body)
}

/// Splits `0..<count` into contiguous chunks of about `chunk` items and runs them in parallel.
func parallelChunks(count: Int, chunk: Int, workers: Int, _ body: (Range<Int>) -> Void) {
    let chunks = (count + chunk - 1) / chunk
    parallelForEach(count: chunks, workers: workers) { _, index in
        body(index * chunk ..< min(count, (index + 1) * chunk))
    }
}
