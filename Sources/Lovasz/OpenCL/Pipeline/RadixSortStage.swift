/// The segmented LSD radix sort of packed sort keys (`Kernels/radix_sort.cl`).
///
/// Sorts each given range of a key array ascending by the keys' high 32 bits, stably: keys
/// created in rank order (their low words increase within a range) come out in ascending
/// order of the whole 64-bit key, the contract's order (error descending, rank ascending).
/// Work and memory are linear in keys plus ranges: per pass of 8 bits three launches over
/// tiles of ``KernelConfiguration/radixTile`` keys; the lowest byte always, each higher byte
/// only where it varies within the range.
///
/// Not thread-safe (kernel arguments and scratch buffers): used under the backend's lock.
final class RadixSortStage {
    private let configuration: KernelConfiguration
    private let context: CLContext
    private let tileSegments: CLKernel
    private let upsweep: CLKernel
    private let scan: CLKernel
    private let downsweep: CLKernel
    private let copyBack: CLKernel
    /// Scratch buffers, grown on demand and kept between calls.
    private var segmentTable: CLBuffer?
    private var tileSegment: CLBuffer?
    private var histograms: CLBuffer?
    private var tileBits: CLBuffer?
    private var varying: CLBuffer?
    private var digitBases: CLBuffer?
    private var alternate: CLBuffer?

    /// Whether the device runs every radix kernel with ``KernelConfiguration/radixGroup``
    /// work-items (where not, the pipeline sorts with the bitonic sort alone).
    let isRunnable: Bool

    /// The kernels that run in work-groups of ``KernelConfiguration/localSize`` (all of them
    /// when the radix work-group is that size, so that a device limit lowers both together).
    var groupedKernels: [CLKernel] {
        configuration.radixGroup == configuration.localSize ? [upsweep, scan, downsweep, copyBack] : []
    }

    /// Creates the radix kernels of `program`, built with `configuration`'s options.
    ///
    /// - Throws: ``OpenCLError`` from `clCreateKernel` or a kernel query.
    init(program: CLProgram, configuration: KernelConfiguration) throws(OpenCLError) {
        self.configuration = configuration
        self.context = program.context
        tileSegments = try program.makeKernel("radix_tile_segments")
        upsweep = try program.makeKernel("radix_upsweep")
        scan = try program.makeKernel("radix_scan")
        downsweep = try program.makeKernel("radix_downsweep")
        copyBack = try program.makeKernel("radix_copy_back")
        var runnable = true
        for kernel in [upsweep, scan, downsweep, copyBack] where try kernel.maxWorkGroupSize < configuration.radixGroup {
            runnable = false
        }
        isRunnable = runnable
    }

    /// Enqueues the sort of every range of `keys`.
    ///
    /// - Parameters:
    ///   - keys: the packed keys; each range is sorted in place, keys outside the ranges are
    ///     left as they are.
    ///   - ranges: disjoint, non-empty or empty ranges of key indices, each below 2³² keys.
    ///   - queue: the pipeline's queues (the segment table is written with a blocking write).
    /// - Throws: ``OpenCLError`` from an allocation, transfer or launch.
    func enqueueSort(keys: CLBuffer, ranges: [Range<Int>], on queue: PipelineQueue) throws(OpenCLError) {
        let tile = configuration.radixTile
        let localSize = configuration.radixGroup
        guard let last = ranges.map(\.upperBound).max(), last <= Int(UInt32.max) else {
            if ranges.isEmpty { return }
            throw OpenCLError(status: -61, call: "radix sort", detail: "key positions past 2^32 - 1")
        }
        var entries = [UInt32]()
        entries.reserveCapacity(4 * ranges.count)
        var tiles = 0
        for range in ranges {
            entries += [UInt32(range.lowerBound), UInt32(range.upperBound), UInt32(tiles), 0]
            tiles += (range.count + tile - 1) / tile
        }
        guard tiles > 0 else { return }
        let segmentCount = ranges.count
        let table = try Self.grow(&segmentTable, bytes: entries.count * 4, context: context)
        let tileSegment = try Self.grow(&tileSegment, bytes: tiles * 4, context: context)
        let histograms = try Self.grow(&histograms, bytes: tiles * 256 * 4, context: context)
        let tileBits = try Self.grow(&tileBits, bytes: tiles * 2 * 4, context: context)
        let varying = try Self.grow(&varying, bytes: segmentCount * 4, context: context)
        let digitBases = try Self.grow(&digitBases, bytes: segmentCount * 256 * 4, context: context)
        let alternate = try Self.grow(&alternate, bytes: last * 8, context: context)
        try queue.write(entries, to: table)

        try tileSegments.setArguments(.buffer(table), .buffer(tileSegment), .count(segmentCount))
        try queue.launch(tileSegments, globalSize: [segmentCount])
        let perTile = [tiles * localSize], perSegment = [segmentCount * localSize], group = [localSize]
        for pass in 0..<4 {
            let (source, destination) = pass % 2 == 0 ? (keys, alternate) : (alternate, keys)
            try upsweep.setArguments(
                .buffer(source), .buffer(table), .buffer(tileSegment), .buffer(varying), .buffer(histograms),
                .buffer(tileBits), .count(pass))
            try queue.launch(upsweep, globalSize: perTile, localSize: group)
            try scan.setArguments(.buffer(histograms), .buffer(digitBases), .buffer(table), .buffer(tileBits), .buffer(varying), .count(pass))
            try queue.launch(scan, globalSize: perSegment, localSize: group)
            try downsweep.setArguments(
                .buffer(source), .buffer(destination), .buffer(table), .buffer(tileSegment), .buffer(varying),
                .buffer(histograms), .buffer(digitBases), .count(pass))
            try queue.launch(downsweep, globalSize: perTile, localSize: group)
        }
        try copyBack.setArguments(.buffer(alternate), .buffer(keys), .buffer(table), .buffer(tileSegment), .buffer(varying))
        try queue.launch(copyBack, globalSize: perTile, localSize: group)
    }

    /// `buffer`, replaced by a new one of at least `bytes` bytes when smaller.
    private static func grow(_ buffer: inout CLBuffer?, bytes: Int, context: CLContext) throws(OpenCLError) -> CLBuffer {
        let needed = max(bytes, 16)
        if let existing = buffer, existing.byteCount >= needed { return existing }
        buffer = nil  // release the smaller buffer before asking for the larger one
        let created = try CLBuffer(context: context, byteCount: needed)
        buffer = created
        return created
    }
}
