extension OpenCLPipeline {
    /// Enqueues the keys, sort, scan, gradient and loss sums of every segment, in chunks of
    /// segments of similar kept counts that fit the device (``SortBatches``).
    ///
    /// First the cut of every segment (its last foreground key) and the number of keys up to
    /// it are found on the device; those counts are read back (a few bytes: they set the size
    /// of the sort), then only the kept keys are compacted, sorted and walked.
    func enqueueSegments(
        _ shape: ProblemShape, segmentCount: Int, inputs: Inputs, keyInputs: KeyStage.Inputs, upstream: CLBuffer,
        writeGradient: Bool,
        losses: CLBuffer
    ) throws(OpenCLError) {

        // The cut and the kept count of every segment.
        queue.phase = .plan
        let list = inputs.blocks
        let blockCount = list.blockSegments.count
        let blocks = KeyStage.Blocks(
            blockSegments: try buffers.buffer(.blockSegments, bytes: 4 * blockCount),
            firstBlock: try buffers.buffer(.firstBlock, bytes: 4 * list.firstBlock.count),
            largeSegments: try buffers.buffer(.largeSegments, bytes: 4 * list.largeSegments.count),
            blockCount: blockCount, largeCount: list.largeSegments.count)
        if blockCount > 0 {
            try queue.write(list.blockSegments, to: blocks.blockSegments)
            try queue.write(list.firstBlock, to: blocks.firstBlock)
            try queue.write(list.largeSegments, to: blocks.largeSegments)
        }
        let partials = try buffers.buffer(.boundPartials, bytes: 16 * blockCount)
        let cuts = try buffers.buffer(.cuts, bytes: 8 * segmentCount)
        let blockCounts = try buffers.buffer(.blockCounts, bytes: 4 * blockCount)
        let blockOffsets = try buffers.buffer(.blockOffsets, bytes: 4 * blockCount)
        let kept = try buffers.buffer(.kept, bytes: 4 * segmentCount)
        try stages.keys.enqueueCuts(
            keyInputs, blocks: blocks, segmentCount: segmentCount, partials: partials, cuts: cuts, kept: kept,
            blockCounts: blockCounts, blockOffsets: blockOffsets, on: queue)
        let keptCounts = try queue.read(UInt32.self, count: segmentCount, from: kept)
        trace.mark("cuts and kept counts")

        // The sort of the kept keys, in chunks of segments of `padded` keys: a power of two for
        // the bitonic sort; for the radix sort, which sorts only the kept keys, the largest kept
        // count rounded up to whole scan tiles and local sorts (less to fill, scan and walk).
        let tile = configuration.scanTile
        let alignment = max(configuration.localKeys, tile)
        let batches = try SortBatches(
            kept: keptCounts, blocks: list, slack: context.device.kind == .cpu ? alignment : max(alignment, SortBatches.deviceSlack),
            padding: { powerOfTwo, largestKept in
                sortsByRadix(padded: powerOfTwo) ? KernelConfiguration.roundUp(largestKept, to: alignment) : powerOfTwo
            }
        ) { (padded, total) throws(OpenCLError) in
            try segmentsPerChunk(padded: padded, total: total)
        }
        let capacity = batches.chunks.map { KernelConfiguration.roundUp($0.slots.count * $0.padded, to: alignment) }.max() ?? alignment
        let keys = try buffers.buffer(.keys, bytes: capacity * 8)
        let counts = try buffers.buffer(.counts, bytes: capacity * 4)
        let tileTotals = try buffers.buffer(.tileTotals, bytes: capacity / tile * 4)
        let tileCarries = try buffers.buffer(.tileCarries, bytes: capacity / tile * 4)
        let segmentSlots = batches.chunks.map { KernelConfiguration.roundUp($0.slots.count * $0.padded, to: alignment) / $0.padded }
        let segmentTotals = try buffers.buffer(.segmentForegroundTotals, bytes: (segmentSlots.max() ?? 1) * 4)
        let terms = try buffers.buffer(.terms, bytes: capacity * accumulatorBytes)
        let reduceBlock = stages.gradient.reduceBlock
        let partialCount = batches.chunks.map { $0.slots.count * (($0.padded + reduceBlock - 1) / reduceBlock) }.max() ?? 1
        let termPartials = try buffers.buffer(.termPartials, bytes: partialCount * accumulatorBytes)
        let order = try buffers.buffer(.order, bytes: 4 * segmentCount)
        let compactBlocks = try buffers.buffer(.compactBlocks, bytes: 4 * batches.compactBlocks.count)
        try queue.write(batches.order, to: order)
        if !batches.compactBlocks.isEmpty { try queue.write(batches.compactBlocks, to: compactBlocks) }

        for chunk in batches.chunks {
            let padded = chunk.padded
            let total = KernelConfiguration.roundUp(chunk.slots.count * padded, to: alignment)
            queue.phase = .keys
            // The bitonic sort sorts whole slots, so they are padded with sentinels; the radix
            // sort sorts only the kept keys, and what lies after them in a slot is never used.
            if !sortsByRadix(padded: padded) { try queue.fill(keys, with: KernelLayout.sentinelKey, count: total) }
            try stages.keys.enqueueCompaction(
                keyInputs, blocks: blocks, chunk: chunk, order: order, compactBlocks: compactBlocks, cuts: cuts,
                blockOffsets: blockOffsets, keys: keys, on: queue)
            // Sent to the device at once, so that it works while the host enqueues the rest
            // (until the call's last read, nothing else would send it).
            try queue.queue.flush()
            queue.phase = .sort
            try enqueueSort(keys: keys, total: total, padded: padded, kept: batches.order[chunk.slots].map { keptCounts[Int($0)] })
            try queue.queue.flush()
            queue.phase = .gradient
            try stages.scan.enqueueForegroundCounts(
                keys: keys, counts: counts, tileTotals: tileTotals, tileCarries: tileCarries,
                segmentTotals: segmentTotals, total: total, padded: padded, on: queue)
            try stages.gradient.enqueueGradient(
                keys: keys, counts: counts, tileCarries: tileCarries, segments: inputs.segments,
                validPixels: inputs.validPixels, weights: inputs.weights, kept: kept, order: order, terms: terms,
                upstream: upstream, padded: padded, pixelCount: shape.pixelCount, hinge: keyInputs.hinge,
                writeGradient: writeGradient, slots: chunk.slots, on: queue)
            try stages.gradient.enqueueSegmentLosses(
                terms: terms, partials: termPartials, losses: losses, order: order, padded: padded,
                slots: chunk.slots, on: queue)
        }
    }

    /// How many segments of `padded` keys one chunk sorts: as many as fit the device's largest
    /// allocation and a third of its memory, and ``chunkKeyLimit``.
    ///
    /// - Throws: ``OpenCLError`` when not even one segment fits.
    func segmentsPerChunk(padded: Int, total: Int) throws(OpenCLError) -> Int {
        let device = context.device
        // Keys, their alternate for the radix sort, counts and terms.
        let bytesPerKey = 8 + 8 + 4 + accumulatorBytes
        var budget = min(Int(device.maxAllocationBytes) / 8, Int(device.globalMemoryBytes / 3) / bytesPerKey)
        if let chunkKeyLimit { budget = min(budget, max(chunkKeyLimit, padded)) }
        let fitting = budget / padded
        guard fitting >= 1 else {
            throw OpenCLError(
                status: -4, call: "plan",
                detail: "a segment of \(padded) keys does not fit the device's memory (\(device.maxAllocationBytes) bytes per allocation)")
        }
        return min(fitting, total)
    }
}
