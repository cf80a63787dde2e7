import CLovaszCPU

/// The cuts of softmax segments, gathered while the softmax pass has each run of probabilities
/// in cache, so that they take no pass of their own over the scores.
///
/// For every run of pixels of the softmax pass and every class, the run's foreground pixel with
/// the smallest error `1 - p` (the last one among ties): `descending word << 32 | pixel in
/// image`, 0 without one (`lovasz_cpu_foreground_bests`). A segment's cut, its largest
/// foreground key, is the largest of these over its images, with the pixel turned into its rank.
struct ForegroundBests {
    /// `[image][run][channel]` entries.
    let table: UnsafeMutablePointer<UInt64>
    let runsPerImage: Int
    let channels: Int
    let spatial: Int

    /// Entries a table for `shape` holds.
    static func entryCount(shape: ProblemShape) -> Int {
        shape.batch * runs(spatial: shape.spatial) * shape.channels
    }

    /// Whether pixel indices within an image fit the entries' low word.
    static func applies(to shape: ProblemShape) -> Bool { shape.spatial < 1 << 31 }

    /// Runs of ``Probabilities/forEachPixelRun(shape:workers:_:)`` per image.
    static func runs(spatial: Int) -> Int { max(1, (spatial + Probabilities.pixelChunk - 1) / Probabilities.pixelChunk) }

    /// - Parameter table: ``entryCount(shape:)`` entries, written by ``record(probabilities:classes:image:start:length:)``
    ///   for every run before any cut is read.
    init(table: UnsafeMutablePointer<UInt64>, shape: ProblemShape) {
        self.table = table
        runsPerImage = Self.runs(spatial: shape.spatial)
        channels = shape.channels
        spatial = shape.spatial
    }

    /// Records the run of image `image` at pixels `start ..< start + length` (a run of the
    /// softmax pass) from its probabilities, `[C]` planes of the image from `probabilities`.
    func record(
        probabilities: UnsafePointer<Float>, classes: ClassIndices, image: Int, start: Int, length: Int
    ) {
        let entries = table + (image * runsPerImage + start / Probabilities.pixelChunk) * channels
        lovasz_cpu_foreground_bests(
            probabilities + start, length, channels, spatial, classes.advanced(by: image * spatial + start).pointers,
            UInt64(start), entries)
    }

    /// The largest foreground key of `segment` (0 without foreground).
    func cut(
        of segment: SegmentPlan.Segment, group: SegmentPlan.Group, validPixels: UnsafeBufferPointer<UInt32>?
    ) -> UInt64 {
        var cut: UInt64 = 0
        for b in group.firstImage ..< group.firstImage + group.imageCount {
            var best: UInt64 = 0
            let entries = table + b * runsPerImage * channels + segment.channel
            for r in 0..<runsPerImage { best = max(best, entries[r * channels]) }
            guard best != 0 else { continue }
            let pixel = Int(truncatingIfNeeded: best & 0xFFFF_FFFF)
            let rank = GroupChunks.rank(
                atOffset: (b - group.firstImage) * spatial + pixel, group: group, spatial: spatial, validPixels: validPixels)
            cut = max(cut, (best & 0xFFFF_FFFF_0000_0000) | UInt64(rank) << 1 | 1)
        }
        return cut
    }
}
