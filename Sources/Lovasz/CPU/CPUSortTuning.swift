import CLovaszCPU

/// The sizes that decide how the CPU path splits and sorts its work.
///
/// They change only the speed, never the gradient; ``walkChunk`` also sets how the loss is
/// summed (per chunk of sorted keys, the chunk sums in order), so the loss of a given tuning
/// is the same number for every thread count. Tests shrink them to send small problems
/// through every path.
struct CPUSortTuning: Sendable, Hashable {
    /// Segments keeping more keys than this take the MSD pass split over chunks of pixels;
    /// smaller ones, and buckets up to this size, are sorted by LSD passes in cache.
    var cacheResidentKeys = KeyRadixSort.cacheResidentKeys
    /// Keys per top-level bucket aimed at when several threads share a segment: the MSD digit
    /// is the narrowest whose buckets hold at most this many keys on average over the keys
    /// (`Σ size² / count`; float keys crowd into few exponents, so the plain average would
    /// leave most keys in far larger buckets). A narrow digit means fewer streams for the
    /// scatter to write (each chunk writes a run into every bucket) and buckets still sorted in
    /// a core's L2. Measured in one process (alternating calls, Intel Xeon VM, two threads):
    /// the hinge per batch random with 32 Ki (11 bits there) 1.05-1.13x faster than with 1 Ki
    /// (13 bits; its scatter alone 1.45 → 0.85 ms a thread), 16 Ki (12 bits) 1.00-1.04x, and
    /// a 10-bit digit 0.85x (buckets over ``cacheResidentKeys`` take a second MSD pass);
    /// Cityscapes per batch 0.99-1.06x, the hinge on trained logits (about 1 100 keys, no MSD
    /// pass) 0.94-1.01x.
    var targetBucket = 1 << 15
    /// The same when one thread sorts the whole segment: larger buckets mean fewer, cheaper
    /// MSD passes (measured: the 2×3×200×200 confident call 25% faster on one thread), and
    /// there is no balance between threads to keep.
    var targetBucketAlone = 4096
    /// One thread on a segment of at least `sampledDigitKeys` keys widens that digit until a
    /// sample of the keys sees buckets of at most `crowdedBucket` keys (`Σ size² / count`):
    /// keys whose errors span both signs crowd into a few exponents, and buckets of hundreds of
    /// thousands of keys would take a second MSD pass out of cache.
    var sampledDigitKeys = 1 << 18
    var crowdedBucket = 1 << 15
    /// A segment of at most this many keys whose words vary in more than 22 bits is sorted by
    /// three LSD passes without an MSD pass, the lowest of them left to an insertion pass when
    /// the keys spread (``KeyRadixSort/leastSignificantFirst(_:scratch:count:lowBit:highBit:histogram:topBitsFirst:)``).
    /// Measured in one process against the MSD pass: the hinge per image (about 100 K keys an
    /// image) 1.10-1.23x faster, the VOC batch per image 0.95-1.01x without the insertion pass and
    /// 1.01-1.08x with it, the 2×3×200×200 confident call 1.03-1.08x with it.
    var topBitsFirstSegmentKeys = 1 << 17
    /// The fewest keys of a run of neighbouring top-level buckets sorted as one task (a run
    /// aims at an eighth of a thread's share of the keys). Measured in one process on the hinge
    /// per batch on 2 threads (8192 buckets), against one bucket per task: runs of 32 Ki keys
    /// 1.13-1.14x faster, 64 Ki 1.10-1.13x, 8 Ki 1.02-1.10x.
    var bucketRunKeys = 1 << 12
    /// Gradient planes of at least this many pixels (1 MiB, twice a core's L2 cache) are zeroed
    /// with non-temporal stores (`lovasz_cpu_zero_streaming`): the sort's traffic evicts them
    /// before the walk writes into them, so reading them in to write zeros is wasted. Measured
    /// in one process: VOC per batch random 1.021-1.036x, trained 1.007-1.019x, hinge per batch
    /// 1.00x (1 thread) and 1.033x (2 threads); the 2×3×200×200 call, whose planes stay in
    /// cache, 0.965x with every plane streamed.
    var streamingZeroPixels = 1 << 18
    /// Threads sharing a segment zero a chunk's part of a large plane with ordinary stores
    /// instead when the chunk keeps at least one key per this many pixels (a cache line's worth
    /// of entries): the shared walk then writes most of those lines and finds them in cache,
    /// not in memory. Measured in one process (alternating calls, Intel Xeon VM, two threads):
    /// the hinge per batch random 1.06-1.12x faster than streamed, trained (about 1 100 keys
    /// in 824 K pixels, still streamed) 0.98-1.02x. A segment walked by one thread keeps
    /// streaming: ordinary stores there measured the hinge per batch random 1.02-1.03x but VOC
    /// per batch trained 0.91-1.02x (median 0.98x).
    var cachedZeroPixelsPerKey = 16
    /// Segments keeping at least this many keys sort their top-level buckets in a working space
    /// of ``cacheResidentKeys`` keys per worker, reused bucket after bucket and so kept in L2,
    /// rather than in the segment's other key buffer (whose lines the LSD passes would read in
    /// and write back). Measured in one process: VOC per batch trained 1.035-1.070x, random
    /// 1.00x; hinge per batch 1.065x (1 thread), 1.027x (2 threads); the 2×3×200×200 call, whose
    /// segments are below this size, 0.98x when it also took it.
    var ownBucketScratchKeys = 1 << 18
    /// The smallest chunk of pixels worth a task of its own.
    var minimumChunkPixels = 1 << 14
    /// Groups of at most this many pixels walk with the AVX-512F form where the processor has
    /// it (eight keys at a time, their gradient entries stored by one scatter): their plane
    /// stays in cache. Larger planes take the AVX2 form, whose single stores miss the cache
    /// better than a scatter's (824 K pixels: 0.98x with the scatter on one thread, VOC per
    /// batch random 0.99x). Measured in one process (alternating calls, Intel Xeon VM): the
    /// 2×3×200×200 call 1.05-1.08x in a slow minute, 1.02-1.03x and 0.99-1.04x (median 1.01x)
    /// in quieter ones; the hinge per image random 1.03-1.10x, trained 0.99-1.05x; VOC per
    /// image trained 1.01-1.03x, random 0.99-1.03x; ADE20K 0.98-1.05x.
    var scatterWalkPixels = 1 << 18
    /// Threads sharing the walk of a group of more than ``scatterWalkPixels`` pixels split its
    /// gradient plane into this many parts: the thread of worker `w` stores the entries of part
    /// `w % walkStoreParts` with the AVX-512F walk's masked scatter and sends the others to an
    /// outbox, from which the part's own thread stores them afterwards
    /// (``SegmentWork/walkSendingAway(sorted:count:workers:outboxes:foregroundPerChunk:)``), so
    /// that no line of the plane passes between cores while it is written. 1 where the processor
    /// lacks AVX-512F (the narrower forms would branch on each entry; the threads then share
    /// chunks of keys and the whole plane). Before the outboxes, each thread walked every key and
    /// stored its part: measured in one process (alternating calls, Intel Xeon VM, two threads)
    /// 1.12-1.19x faster than chunks of keys shared on the hinge per batch random.
    var walkStoreParts = lovasz_cpu_has_wide_vector_forms() != 0 ? 2 : 1
    /// Runs of chunks of sorted keys per thread in a walk that sends entries away
    /// (``SegmentWork/walkSendingAway(sorted:count:workers:outboxes:foregroundPerChunk:)``),
    /// handed out one at a time so that a faster thread takes more of them (the two virtual
    /// processors of the benchmark VM often run 5-20% apart). Measured against each thread
    /// walking every key for its part (alternating calls in one process, Intel Xeon VM, two
    /// threads): the hinge per batch random 0.96-1.05x, median 1.04x (six processes; its walk
    /// 1.20 → 0.99 ms), trained (about 1 100 keys: no shared walk) unchanged; 3 and 16 runs a
    /// thread against 8: 0.98-1.02x.
    var walkRunsPerWorker = 8
    /// Sorted keys per partial sum of the loss (and per task when threads share a walk).
    ///
    /// A segment split by key range (``SegmentParts``) keeps the terms of the chunk that straddles
    /// two parts one by one, and they are added serially once the parts are done: up to a chunk
    /// of them. 8 Ki keys keep that under ~10 µs; with 64 Ki the 2×3×200×200 call summed ~25 000
    /// such terms (22-26 µs, one thread idle). Measured in one process (alternating calls, six
    /// runs of 600): that call 1.011-1.018x faster than with 64 Ki; VOC per batch trained and the
    /// hinge per batch on two threads (more walk tasks) 0.99-1.03x, no change.
    var walkChunk = 1 << 13
    /// Below this many segments per thread, every thread works on each segment in turn;
    /// otherwise each thread sorts whole segments. Threads sharing a segment store its
    /// gradient into the same cache lines, so sharing pays only when some thread would have
    /// no segment at all (measured in one process: three segments on two threads, the
    /// 2×3×200×200 call, 1.145x faster whole than shared).
    var splitBelow = 1
    /// Segments of the last round of a call that would leave threads idle (three segments on two
    /// threads) are split by key range (``SegmentParts``) when their group has at least this
    /// many valid pixels (each part reads all of them; measured in one process, the 2×3×200×200
    /// confident call on two threads 1.08-1.16x faster in a quiet minute, 1.05x in a slow one).
    var splitLastRoundPixels = 1 << 15
    /// A split segment that keeps fewer keys than this is sorted and walked whole by its first
    /// part (the others find the same count and do nothing more).
    var splitSegmentKeys = 1 << 14
    /// A split segment's parts divide at quantiles of the error words of a sample: the keys of
    /// this many evenly spread blocks of this many pixels (the same sample in every part). Every
    /// part takes the sample, so its cost is paid on both threads. Blocks of 32 pixels (512 in
    /// all) instead of 128, measured in one process (alternating calls, Intel Xeon VM, two
    /// threads): the 2×3×200×200 confident call 1.011-1.016x faster alone (four processes),
    /// 1.019-1.036x (median 1.03x, eight processes) together with the parts' planes asked for
    /// ahead (``SegmentWork/runPart(cut:part:of:workspace:record:layout:)``); 8 × 32 and
    /// 16 × 16 pixels the same within the noise.
    var splitSampleBlocks = 16
    var splitSampleBlockPixels = 32
    /// The parts' shares of a split segment's keys fall linearly from `1 + slope` to `1 - slope`
    /// times the mean (``SegmentParts/firstSample(ofPart:parts:sampled:slope:)``; `0 ..< 1`): the
    /// first part goes to the thread that finished its whole segment first — the faster one that
    /// minute — and the last to the last to finish. Instrumented on the 2×3×200×200 confident call
    /// (Intel Xeon VM, two threads, equal halves): the pool's thread ran the same sorts 5-10%
    /// slower than the calling thread in most processes, the second half sorted in 267-304 µs
    /// against 221-236 µs for the first, and the phase left one thread 36-350 µs idle. Measured in
    /// one process (alternating calls against halves, that call, six or eight processes each):
    /// a first part of 55% of the keys 1.009x, 57% 1.037x and again 1.018x (1.002-1.038x), 59%
    /// 1.014x, 62% 1.020x; with 57%, VOC per batch (one segment of 21 split in two) trained 0.996x
    /// (0.960-1.006x), random 1.012x.
    var splitShareSlope = 0.14
    /// Chunks of pixels per thread when threads share a segment (for balance).
    var chunksPerWorker = 4
    /// Positions of each of a task's four chunks per item of the MSD pass's count and scatter,
    /// which a thread out of tasks helps finish from the back
    /// (``ParallelKeySort/countDigits(workspace:chunks:shift:bits:workers:tuning:)``,
    /// ``ParallelKeySort/scatter(workspace:chunks:buckets:shift:workers:tuning:)``).
    var msdBlockKeys = 2048
    /// Items of each task of the MSD pass that its own thread takes from the back before the
    /// front: 0 (a thread takes items from the back only to help another's task); tests raise it
    /// to count and store keys from the back on one thread (no thread then helps another).
    var msdItemsTakenFromBack = 0
    /// Calls with fewer scores than this run on the calling thread alone: handing items to
    /// the ``WorkerPool`` would cost more than it saves.
    var singleThreadedBelow = 1 << 15

    static let standard = CPUSortTuning()
}
