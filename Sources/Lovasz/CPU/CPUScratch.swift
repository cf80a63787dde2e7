import Synchronization

/// Large buffers kept between calls, so that steady-state calls neither allocate nor touch
/// fresh pages.
///
/// A buffer is taken for the duration of one call and given back afterwards; concurrent
/// calls get different buffers. At most ``retained`` buffers of each kind are kept.
final class CPUScratch: Sendable {
    static let retained = 4

    private let floatPool = BufferPool<Float>()
    private let keyPool = BufferPool<UInt64>()
    private let intPool = BufferPool<Int>()

    /// A float buffer of at least `capacity` elements, uninitialized; give the whole buffer back.
    func floats(capacity: Int) throws(LovaszError) -> UnsafeMutableBufferPointer<Float> { try floatPool.take(capacity) }
    func returnFloats(_ buffer: UnsafeMutableBufferPointer<Float>) { floatPool.give(buffer) }

    /// A key buffer of at least `capacity` elements, uninitialized; give the whole buffer back.
    func keys(capacity: Int) throws(LovaszError) -> UnsafeMutableBufferPointer<UInt64> { try keyPool.take(capacity) }
    func returnKeys(_ buffer: UnsafeMutableBufferPointer<UInt64>) { keyPool.give(buffer) }

    /// An integer buffer (histograms, offsets) of at least `capacity` elements, uninitialized.
    func ints(capacity: Int) throws(LovaszError) -> UnsafeMutableBufferPointer<Int> { try intPool.take(capacity) }
    func returnInts(_ buffer: UnsafeMutableBufferPointer<Int>) { intPool.give(buffer) }
}

/// One allocation handed between the pool and the call using it.
// @unchecked Sendable: an allocation has exactly one holder at a time, the pool (under its
// lock) or the one call that took it, so its memory is never shared between threads.
private struct PooledAllocation<Element>: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<Element>
}

/// A lock-protected list of reusable allocations, deallocated with the pool.
private final class BufferPool<Element>: Sendable {
    private let free = Mutex<[PooledAllocation<Element>]>([])

    deinit {
        free.withLock { $0.forEach { $0.buffer.deallocate() } }
    }

    /// The smallest free allocation of at least `capacity` elements, or a new one.
    ///
    /// - Throws: ``LovaszError/outOfMemory(bytes:)`` when a new one cannot be allocated.
    func take(_ capacity: Int) throws(LovaszError) -> UnsafeMutableBufferPointer<Element> {
        let found = free.withLock { list -> PooledAllocation<Element>? in
            let fitting = list.indices.filter { list[$0].buffer.count >= capacity }
            guard let best = fitting.min(by: { list[$0].buffer.count < list[$1].buffer.count }) else { return nil }
            return list.remove(at: best)
        }
        if let found { return found.buffer }
        return try FallibleMemory.allocate(Element.self, count: capacity)
    }

    /// Gives an allocation back; the smallest is released when more than the limit are kept.
    func give(_ buffer: UnsafeMutableBufferPointer<Element>) {
        let allocation = PooledAllocation(buffer: buffer)
        let evicted = free.withLock { list -> PooledAllocation<Element>? in
            list.append(allocation)
            guard list.count > CPUScratch.retained else { return nil }
            let smallest = list.indices.min { list[$0].buffer.count < list[$1].buffer.count }!
            return list.remove(at: smallest)
        }
        evicted?.buffer.deallocate()
    }
}
