import CLovaszCPU

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

/// Runs `body(item)` for every item in `0..<count` on up to `workers` threads, in one contiguous
/// share of the items per thread: each thread takes its share from the front, and a thread out
/// of items helps another from the back of its share (``parallelForEachFromBothEnds``).
///
/// Passes that split the same items the same way then run each item on the same thread, call
/// after call, so that a thread mostly reads lines it wrote itself, in its own cache; a faster
/// thread still takes more items.
func parallelForEachInShares(count: Int, workers: Int, _ body: (_ item: Int) -> Void) {
    let shares = max(1, min(workers, count))
    guard shares > 1 else {
        for item in 0..<count { body(item) }
        return
    }
    @inline(__always) func first(_ share: Int) -> Int { share * count / shares }
    parallelForEachFromBothEnds(
        lists: shares, items: { first($0 + 1) - first($0) }, workers: workers,
        front: { share, item in body(first(share) + item) },
        back: { share, item in body(first(share) + item) })
}

/// Splits `0..<count` into contiguous chunks of about `chunk` items and runs them in parallel.
func parallelChunks(count: Int, chunk: Int, workers: Int, _ body: (Range<Int>) -> Void) {
    let chunks = (count + chunk - 1) / chunk
    parallelForEach(count: chunks, workers: workers) { _, index in
        body(index * chunk ..< min(count, (index + 1) * chunk))
    }
}

/// Works through `lists` lists of items on up to `workers` threads: each list is taken from its
/// front by one thread, and a thread that runs out of lists helps one still going by taking its
/// items from the back (at most one thread takes a list's items from the back). Every item is
/// taken exactly once, whichever thread takes it: a list's front items in increasing order
/// (`front(list, item)`), its back items in decreasing order (`back(list, item)`), the front ones
/// all below the back ones. Balances work split in few static shares between threads that
/// run at different speeds (the virtual processors of a VM often run 5-70% apart).
///
/// - Parameters:
///   - items: the number of items of list `l`, at least 0.
///   - begin: called with each list by its own thread before it takes any of its items.
///   - fromBack: items each list's own thread takes from the back before its front; 0 in use,
///     tests raise it to take items from the back on one thread (no thread then helps).
func parallelForEachFromBothEnds(
    lists: Int, items: (_ list: Int) -> Int, workers: Int, fromBack: Int = 0, begin: (_ list: Int) -> Void = { _ in },
    front: (_ list: Int, _ item: Int) -> Void, back: (_ list: Int, _ item: Int) -> Void
) {
    let helpers = workers > 1 && fromBack == 0
    // One claim counter a list, a cache line apart.
    let stride = 8
    withUnsafeTemporaryAllocation(of: Int64.self, capacity: lists * stride) { claims in
        claims.initialize(repeating: 0)
        parallelForEach(count: helpers ? 2 * lists : lists, workers: workers) { _, task in
            let list = task % lists
            let counter = claims.baseAddress! + list * stride
            let count = items(list)
            @inline(__always) func claim() -> Bool { lovasz_cpu_atomic_fetch_add(counter, 1) < count }
            if task < lists { begin(list) }
            var last = count - 1
            if task >= lists || fromBack > 0 {
                var taken = 0
                while (task >= lists || taken < fromBack) && claim() {
                    back(list, last)
                    last -= 1
                    taken += 1
                }
                if task >= lists { return }
            }
            var next = 0
            while claim() {
                front(list, next)
                next += 1
            }
        }
    }
}
