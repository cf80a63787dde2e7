import Dispatch
import Synchronization
import Testing
@testable import Lovasz

/// The process's worker pool: every item once, worker indices in range, nested and concurrent
/// calls (which run on their caller's thread) never deadlock.
@Suite("Worker pool")
struct WorkerPoolTests {
    @Test("every item runs once, on a worker index below the number asked for", arguments: [1, 2, 3, 16])
    func everyItemOnce(workers: Int) {
        let pool = WorkerPool(threads: 3)
        let count = 1000
        let seen = Mutex([Int](repeating: 0, count: count))
        let badWorker = Atomic<Bool>(false)
        for _ in 0..<20 {
            pool.run(count: count, workers: workers) { worker, item in
                if worker < 0 || worker >= workers { badWorker.store(true, ordering: .relaxed) }
                seen.withLock { $0[item] += 1 }
            }
        }
        let anyBadWorker = badWorker.load(ordering: .relaxed)
        #expect(!anyBadWorker)
        #expect(seen.withLock { $0.allSatisfy { $0 == 20 } })
    }

    @Test("a call from inside an item, and calls from many threads at once, finish")
    func nestedAndConcurrent() {
        let pool = WorkerPool(threads: 2)
        let total = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            pool.run(count: 16, workers: 3) { _, _ in
                pool.run(count: 4, workers: 3) { _, _ in total.wrappingAdd(1, ordering: .relaxed) }
            }
        }
        let runs = total.load(ordering: .relaxed)
        #expect(runs == 8 * 16 * 4)
    }

    @Test("a pool without threads runs everything on the calling thread")
    func noThreads() {
        let pool = WorkerPool(threads: 0)
        #expect(pool.threadCount == 0)
        var order: [Int] = []
        pool.run(count: 5, workers: 4) { worker, item in
            #expect(worker == 0)
            order.append(item)
        }
        #expect(order == [0, 1, 2, 3, 4])
    }

    /// Lists worked from both ends (``parallelForEachFromBothEnds(lists:items:workers:fromBack:front:back:)``):
    /// every item taken once; a list's front items in increasing order from 0, its back items in
    /// decreasing order from the last, every front item below every back item.
    @Test("lists worked from both ends: every item once, fronts below backs", arguments: [1, 2, 3], [0, 1, 3])
    func bothEnds(workers: Int, fromBack: Int) {
        let lengths = [0, 1, 7, 40, 3, 200]
        for _ in 0..<20 {
            let fronts = Mutex([[Int]](repeating: [], count: lengths.count))
            let backs = Mutex([[Int]](repeating: [], count: lengths.count))
            parallelForEachFromBothEnds(
                lists: lengths.count, items: { lengths[$0] }, workers: workers, fromBack: fromBack,
                front: { list, item in
                    // Slow items on one list, so that a helper comes to it.
                    if list == 5 { for _ in 0..<2000 { _ = fronts.withLock { $0.count } } }
                    fronts.withLock { $0[list].append(item) }
                },
                back: { list, item in backs.withLock { $0[list].append(item) } })
            let front = fronts.withLock { $0 }, back = backs.withLock { $0 }
            for (list, n) in lengths.enumerated() {
                #expect(front[list] == Array(0 ..< front[list].count), "list \(list)")
                #expect(back[list] == Array((front[list].count ..< n).reversed()), "list \(list)")
                if fromBack > 0 { #expect(back[list].count >= min(n, fromBack), "list \(list)") }
            }
        }
    }
}

