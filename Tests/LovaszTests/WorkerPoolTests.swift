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
}
