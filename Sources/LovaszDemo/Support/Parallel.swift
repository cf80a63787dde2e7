import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The number of processors online, at least 1.
var onlineProcessors: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

/// Runs `body(task)` for every task in `0..<count`, on all processors when `count > 1`.
///
/// Tasks must write disjoint memory; results must not depend on the thread that ran a task.
func parallelTasks(_ count: Int, _ body: (Int) -> Void) {
    if count <= 1 || onlineProcessors == 1 {
        for task in 0..<count { body(task) }
        return
    }
    withoutActuallyEscaping(body) { body in
        let work = UncheckedSendableBox(body)
        DispatchQueue.concurrentPerform(iterations: count) { work.value($0) }
    }
}

/// Carries a closure that is not `Sendable` into `concurrentPerform`.
// @unchecked Sendable: only used while concurrentPerform runs and waits, and every task
// writes disjoint memory, so no two threads touch the same mutable state.
private struct UncheckedSendableBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
