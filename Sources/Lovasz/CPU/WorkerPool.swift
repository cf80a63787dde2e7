#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CLovaszCPU
import Synchronization

/// Threads created once per process that run the items of ``parallelForEach(count:workers:_:)``.
///
/// A call hands its items to the pool's idle threads and works on them itself as worker 0;
/// no thread is created per call. One call uses the pool at a time: a call that finds it busy
/// (another engine call on another thread, or a nested call from inside an item) runs its
/// items on its own thread, so calls never wait for each other and never deadlock. Threads
/// that cannot be created (a tight address-space or process limit) are simply not there:
/// the work then runs on fewer threads, down to the calling thread alone.
///
/// One call runs several jobs a few microseconds apart, and waking a sleeping thread costs
/// tens of microseconds: a helper that finishes a job spins for ``spinNanoseconds`` before it
/// sleeps, and a call waiting for its helpers to finish spins for ``callerSpinNanoseconds``.
final class WorkerPool: @unchecked Sendable {
    // @unchecked Sendable: every mutable field is read and written only with `mutex` held,
    // except the atomics (the posted generation, the running helpers, the job's item counter).

    /// The pool shared by every engine of the process: one thread per processor but one.
    static let shared = WorkerPool(threads: HostProcessors.online - 1)

    /// The stack of each pool thread: the items use little stack (a few KiB of temporaries).
    static let stackBytes = 1 << 20

    /// How long an idle helper polls for the next job before sleeping on a condition variable.
    ///
    /// Long enough that calls made one after another (a loop over batches) find the helpers
    /// awake: between two calls of the hinge per batch on trained logits (about 0.3 ms on two
    /// threads) the caller spends 40-60 µs alone (its serial sort and walk, the next call's
    /// checks), around the 50 µs the helpers polled before, and a woken helper joins 35-180 µs
    /// late on this project's VM. Processes alternating (Intel Xeon VM, that call on two
    /// threads, ten pairs each): 200 µs 1.028x faster than 50 µs, 500 µs 1.024x (earlier pairs
    /// 1.063x and 1.094x), 200 against 500 µs 0.994x; the 2×3×200×200 call 1.016x, VOC and the
    /// hinge on random logits 0.97-0.99x (noise: their calls keep the helpers busy). A call
    /// after a longer pause still pays the wake-up; an idle helper costs at most this much
    /// processor time per call (OpenMP runtimes poll for milliseconds by default).
    static let spinNanoseconds: UInt64 = 200_000

    /// How long a call polls for its helpers to finish a job before sleeping. It waits for its
    /// own work, with nothing else to run, so it polls longer than an idle helper: on this
    /// project's 2-core VM a sleeping thread took 35-180 µs to wake (its virtual processor
    /// halts). Alternating calls in one process, the 2×3×200×200 call against the call sleeping
    /// after 50 µs: 0.998-1.025x, median 1.016x over six processes (1.003-1.016x over twelve
    /// earlier). (Idle helpers polling 300 µs instead of 50 gained nothing on that call,
    /// 1.001-1.003x; they poll ``spinNanoseconds``.)
    static let callerSpinNanoseconds: UInt64 = 2_000_000

    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let workReady = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let jobDone = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    /// Threads that started (at most the number asked for).
    private(set) var threadCount = 0
    private var busy = false
    /// Incremented for every job; a thread runs each generation at most once.
    private var generation = 0
    /// `generation` as last published, read by spinning helpers without the mutex.
    private let posted = Atomic<Int>(0)
    /// Pool threads 1...helpers may take part in the current job.
    private var helpers = 0
    /// Helpers working on the current job (they join with the mutex held, while the job is
    /// open): the call waits for these alone, not for threads that wake after it has closed
    /// the job (they find no job and go back to sleep).
    private let running = Atomic<Int>(0)
    /// The job open to helpers, or nil.
    private var job: Job?

    /// One call's items: the body and the next item to hand out.
    private final class Job: @unchecked Sendable {
        // @unchecked Sendable: `body` is read by the helpers only while the submitting call
        // waits for them, and cleared by that call (under the pool's mutex) once they are
        // done, before its non-escaping closure goes out of scope; `next` is atomic.
        var body: ((_ worker: Int, _ item: Int) -> Void)?
        let count: Int
        let next = Atomic<Int>(0)

        init(count: Int, body: @escaping (_ worker: Int, _ item: Int) -> Void) {
            self.count = count
            self.body = body
        }

        /// Runs items until none is left.
        func drain(worker: Int) {
            var item = next.wrappingAdd(1, ordering: .relaxed).oldValue
            guard item < count, let body else { return }
            while item < count {
                body(worker, item)
                item = next.wrappingAdd(1, ordering: .relaxed).oldValue
            }
        }
    }

    /// Starts up to `threads` threads (none for `threads` ≤ 0).
    init(threads: Int) {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(workReady, nil)
        pthread_cond_init(jobDone, nil)
        var index = 1
        while index <= threads && startThread(index: index) {
            threadCount += 1
            index += 1
        }
    }

    deinit {
        // The shared pool lives as long as the process; a pool made in a test is never released
        // while its threads run (they hold it), so this only frees what the threads never used.
        pthread_cond_destroy(jobDone)
        pthread_cond_destroy(workReady)
        pthread_mutex_destroy(mutex)
        jobDone.deallocate()
        workReady.deallocate()
        mutex.deallocate()
    }

    /// Runs `body(worker, item)` for every item in `0..<count` on the calling thread and up to
    /// `workers - 1` pool threads, and returns when all have finished.
    ///
    /// - Parameters:
    ///   - workers: the most threads to use (≥ 1); worker indices are in `0..<workers`.
    ///   - body: called once per item; items are handed out dynamically, one at a time.
    func run(count: Int, workers: Int, _ body: (_ worker: Int, _ item: Int) -> Void) {
        let wanted = min(workers, count) - 1
        guard wanted > 0, threadCount > 0 else {
            for item in 0..<count { body(0, item) }
            return
        }
        pthread_mutex_lock(mutex)
        if busy {
            pthread_mutex_unlock(mutex)
            for item in 0..<count { body(0, item) }
            return
        }
        withoutActuallyEscaping(body) { body in
            let job = Job(count: count, body: body)
            busy = true
            helpers = min(wanted, threadCount)
            generation += 1
            self.job = job
            posted.store(generation, ordering: .releasing)
            pthread_cond_broadcast(workReady)
            pthread_mutex_unlock(mutex)

            job.drain(worker: 0)

            pthread_mutex_lock(mutex)
            self.job = nil  // closed: no helper joins from now on
            pthread_mutex_unlock(mutex)
            Self.spin(for: Self.callerSpinNanoseconds) { running.load(ordering: .acquiring) == 0 }
            pthread_mutex_lock(mutex)
            while running.load(ordering: .acquiring) > 0 { pthread_cond_wait(jobDone, mutex) }
            job.body = nil  // the closure must not outlive this call
            busy = false
            pthread_mutex_unlock(mutex)
        }
    }

    /// Polls `done` (with the processor's spin hint) until it holds or `limit` nanoseconds
    /// have passed.
    private static func spin(for limit: UInt64 = spinNanoseconds, until done: () -> Bool) {
        var polls = 0
        var start: UInt64 = 0
        while !done() {
            lovasz_cpu_spin_pause()
            polls += 1
            guard polls & 63 == 0 else { continue }
            let now = monotonicNanoseconds()
            if start == 0 {
                start = now
            } else if now - start > limit {
                return
            }
        }
    }

    private static func monotonicNanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    /// The loop of pool thread `index` (1...threadCount).
    private func serve(index: Int) {
        var seen = 0
        while true {
            Self.spin { posted.load(ordering: .acquiring) != seen }
            pthread_mutex_lock(mutex)
            while generation == seen || job == nil { pthread_cond_wait(workReady, mutex) }
            seen = generation
            guard index <= helpers, let job else {
                pthread_mutex_unlock(mutex)
                continue
            }
            running.add(1, ordering: .relaxed)
            pthread_mutex_unlock(mutex)
            job.drain(worker: index)
            if running.subtract(1, ordering: .releasing).newValue == 0 {
                pthread_mutex_lock(mutex)
                pthread_cond_signal(jobDone)
                pthread_mutex_unlock(mutex)
            }
        }
    }

    /// Starts pool thread `index`, detached, with a small stack; false when it cannot be created.
    private func startThread(index: Int) -> Bool {
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setstacksize(&attributes, Self.stackBytes)
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        let context = Unmanaged.passRetained(ThreadStart(pool: self, index: index)).toOpaque()
        var thread = pthread_t()
        let status = pthread_create(&thread, &attributes, { raw in
            let start = Unmanaged<ThreadStart>.fromOpaque(raw!).takeRetainedValue()
            start.pool.serve(index: start.index)
            return nil
        }, context)
        if status != 0 {
            Unmanaged<ThreadStart>.fromOpaque(context).release()
            return false
        }
        return true
    }

    /// What a new pool thread needs to start serving.
    private final class ThreadStart {
        let pool: WorkerPool
        let index: Int
        init(pool: WorkerPool, index: Int) {
            self.pool = pool
            self.index = index
        }
    }
}
