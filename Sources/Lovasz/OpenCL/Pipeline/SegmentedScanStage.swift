/// Segmented scans of counts: the kernels of `Kernels/segmented_scan.cl`.
///
/// Not thread-safe (kernel arguments are per kernel object): used under the backend's lock.
final class SegmentedScanStage {
    private let scanForeground: CLKernel
    private let exclusiveScanPerSegment: CLKernel
    private let configuration: KernelConfiguration

    init(program: CLProgram, configuration: KernelConfiguration) throws(OpenCLError) {
        scanForeground = try program.makeKernel("scan_foreground")
        exclusiveScanPerSegment = try program.makeKernel("exclusive_scan_per_segment")
        self.configuration = configuration
    }

    /// The kernels that run in work-groups of ``KernelConfiguration/localSize``.
    var groupedKernels: [CLKernel] { [scanForeground, exclusiveScanPerSegment] }

    /// The segmented inclusive scan of the foreground bits of `total` sorted keys (a multiple
    /// of the scan tile) in segments of `padded`: afterwards `counts[i]` plus, when `padded`
    /// exceeds a scan tile, `tileCarries[i / tile]` is the number of foreground keys at or
    /// before `i` in its segment.
    ///
    /// - Parameter segmentTotals: receives each segment's foreground count when `padded`
    ///   exceeds a tile (`total / padded` uints).
    func enqueueForegroundCounts(
        keys: CLBuffer, counts: CLBuffer, tileTotals: CLBuffer, tileCarries: CLBuffer, segmentTotals: CLBuffer,
        total: Int, padded: Int, on queue: PipelineQueue
    ) throws(OpenCLError) {
        let tile = configuration.scanTile
        try enqueueScanForeground(keys: keys, counts: counts, tileTotals: tileTotals, padded: padded, tiles: total / tile, on: queue)
        if padded > tile {
            try enqueueExclusiveScanPerSegment(
                counts: tileTotals, offsets: tileCarries, totals: segmentTotals, perSegment: padded / tile,
                segmentCount: total / padded, on: queue)
        }
    }

    /// `scan_foreground(keys, counts, tile_totals, padded)`: the scan within each of `tiles` tiles.
    func enqueueScanForeground(
        keys: CLBuffer, counts: CLBuffer, tileTotals: CLBuffer, padded: Int, tiles: Int, on queue: PipelineQueue
    ) throws(OpenCLError) {
        try scanForeground.setArguments(.buffer(keys), .buffer(counts), .buffer(tileTotals), .count(padded))
        let localSize = configuration.localSize
        try queue.launch(scanForeground, globalSize: [tiles * localSize], localSize: [localSize])
    }

    /// `exclusive_scan_per_segment(counts, offsets, totals, per_segment)`: the exclusive prefix
    /// sums of `segmentCount` runs of `perSegment` counts, and each run's total.
    func enqueueExclusiveScanPerSegment(
        counts: CLBuffer, offsets: CLBuffer, totals: CLBuffer, perSegment: Int, segmentCount: Int, on queue: PipelineQueue
    ) throws(OpenCLError) {
        try exclusiveScanPerSegment.setArguments(.buffer(counts), .buffer(offsets), .buffer(totals), .count(perSegment))
        let localSize = configuration.localSize
        try queue.launch(exclusiveScanPerSegment, globalSize: [segmentCount * localSize], localSize: [localSize])
    }
}
