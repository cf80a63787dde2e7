extension OpenCLPipeline {
    /// Enqueues the keys, sort, scan, gradient and loss sums of every segment, in chunks of
    /// segments that fit the device.
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
        let blocks = (inputs.largestGroup + configuration.boundBlock - 1) / configuration.boundBlock
        let partials = try buffers.buffer(.boundPartials, bytes: 16 * segmentCount * blocks)
        let cuts = try buffers.buffer(.cuts, bytes: 8 * segmentCount)
        let blockCounts = try buffers.buffer(.blockCounts, bytes: 4 * segmentCount * blocks)
        let blockOffsets = try buffers.buffer(.blockOffsets, bytes: 4 * segmentCount * blocks)
        let kept = try buffers.buffer(.kept, bytes: 4 * segmentCount)
        try stages.keys.enqueueSegmentBounds(keyInputs, partials: partials, blocks: blocks, segmentCount: segmentCount, on: queue)
        try stages.keys.enqueueSegmentCuts(
            partials: partials, segments: inputs.segments, cuts: cuts, blocks: blocks, segmentCount: segmentCount, on: queue)
        try stages.keys.enqueueCountKept(
            keyInputs, cuts: cuts, blockCounts: blockCounts, blocks: blocks, segmentCount: segmentCount, on: queue)
        try stages.scan.enqueueExclusiveScanPerSegment(
            counts: blockCounts, offsets: blockOffsets, totals: kept, perSegment: blocks, segmentCount: segmentCount,
            on: queue)
        let keptCounts = try queue.read(UInt32.self, count: segmentCount, from: kept)
        trace.mark("cuts and kept counts")

        // The sort of the kept keys, in chunks of segments of `padded` keys: a power of two for
        // the bitonic sort; for the radix sort, which sorts only the kept keys, the largest kept
        // count rounded up to whole scan tiles and local sorts (less to fill, scan and walk).
        let largestKept = Int(keptCounts.max() ?? 1)
        let tile = configuration.scanTile
        let alignment = max(configuration.localKeys, tile)
        var padded = KernelConfiguration.powerOfTwo(atMost: 2 * largestKept - 1)
        if sortsByRadix(padded: padded) {
            padded = KernelConfiguration.roundUp(largestKept, to: alignment)
        }
        let perChunk = try segmentsPerChunk(padded: padded, total: segmentCount)
        let capacity = KernelConfiguration.roundUp(perChunk * padded, to: alignment)
        let keys = try buffers.buffer(.keys, bytes: capacity * 8)
        let counts = try buffers.buffer(.counts, bytes: capacity * 4)
        let tileTotals = try buffers.buffer(.tileTotals, bytes: capacity / tile * 4)
        let tileCarries = try buffers.buffer(.tileCarries, bytes: capacity / tile * 4)
        let segmentTotals = try buffers.buffer(.segmentForegroundTotals, bytes: capacity / padded * 4)
        let terms = try buffers.buffer(.terms, bytes: capacity * accumulatorBytes)
        let reduceBlocks = (padded + stages.gradient.reduceBlock - 1) / stages.gradient.reduceBlock
        let termPartials = try buffers.buffer(.termPartials, bytes: perChunk * reduceBlocks * accumulatorBytes)
        let radix = sortsByRadix(padded: padded)

        var base = 0
        while base < segmentCount {
            let count = min(perChunk, segmentCount - base)
            let total = KernelConfiguration.roundUp(count * padded, to: alignment)
            queue.phase = .keys
            // The bitonic sort sorts whole slots, so they are padded with sentinels; the radix
            // sort sorts only the kept keys, and what lies after them in a slot is never used.
            if !radix { try queue.fill(keys, with: KernelLayout.sentinelKey, count: total) }
            try stages.keys.enqueueCompactKeys(
                keyInputs, cuts: cuts, blockOffsets: blockOffsets, keys: keys, blocks: blocks, padded: padded,
                segmentBase: base, segmentCount: count, on: queue)
            queue.phase = .sort
            try enqueueSort(keys: keys, total: total, padded: padded, kept: keptCounts[base ..< base + count])
            queue.phase = .gradient
            try stages.scan.enqueueForegroundCounts(
                keys: keys, counts: counts, tileTotals: tileTotals, tileCarries: tileCarries,
                segmentTotals: segmentTotals, total: total, padded: padded, on: queue)
            try stages.gradient.enqueueGradient(
                keys: keys, counts: counts, tileCarries: tileCarries, segments: inputs.segments,
                validPixels: inputs.validPixels, weights: inputs.weights, kept: kept, terms: terms, upstream: upstream,
                padded: padded, pixelCount: shape.pixelCount, hinge: keyInputs.hinge,
                writeGradient: writeGradient, segmentBase: base, segmentCount: count, on: queue)
            try stages.gradient.enqueueSegmentLosses(
                terms: terms, partials: termPartials, losses: losses, padded: padded, segmentBase: base,
                segmentCount: count, on: queue)
            base += count
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
