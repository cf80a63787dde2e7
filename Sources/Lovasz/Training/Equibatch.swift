/// A sampler of training samples that visits every class regularly ("equibatch", Berman et
/// al., CVPR 2018, Sec. 3.1).
///
/// The Lovász-Softmax loss over a batch only optimises the classes present in that batch, so
/// a class that is missing from many consecutive batches is not optimised for a long time.
/// Equibatch draws samples so that **every class present in the training set appears in at
/// least one sample of every window of `K` consecutive samples**, where `K` is the number of
/// such classes (`K ≤ C`). Batches are runs of consecutive samples, so a batch of size
/// `≥ K` contains every class.
///
/// At each step the sampler picks the class that was seen longest ago (never-seen classes
/// first, lower class index first among equals) and draws the next sample containing it from
/// a shuffled queue of that class's samples (without replacement; the queue is reshuffled when
/// it runs out). Every class of the drawn sample counts as seen. Because a class chosen in a
/// window is then more recent than any class still unseen in it, `K` consecutive steps choose
/// `K` different classes, which proves the guarantee.
///
/// A class that appears in no sample cannot be visited; it is listed in ``absentClasses``
/// and the guarantee holds for the others. Samples containing no class (for example entirely
/// ignored images) are never drawn.
///
/// ```swift
/// var sampler = try Equibatch(presence: [[0, 1], [0], [0, 2]], classCount: 3, seed: 7)
/// let batch = sampler.nextBatch(size: 3)   // holds samples 0 and 2: classes 0, 1 and 2
/// ```
public struct Equibatch: Sendable, Sequence, IteratorProtocol {
    /// The number of samples in the training set.
    public let sampleCount: Int
    /// The number of classes `C`.
    public let classCount: Int
    /// The classes present in at least one sample, ascending.
    public let presentClasses: [Int]
    /// The classes present in no sample, ascending; never visited.
    public let absentClasses: [Int]

    /// Every `window` consecutive samples contain every class of ``presentClasses``.
    public var window: Int { presentClasses.count }

    /// `classes[s]`: the classes present in sample `s`, without repetitions.
    private let classesOfSample: [[Int]]
    /// `samples[c]`: the samples that contain class `c`, in the current shuffled order.
    private var queues: [[Int]]
    /// How far each class's queue has been consumed.
    private var queuePositions: [Int]
    /// The step at which each class was last seen, or -1.
    private var lastSeen: [Int]
    private var step = 0
    private var random: SplitMix64

    /// Creates a sampler from the classes present in each sample.
    ///
    /// - Parameters:
    ///   - presence: for each sample, the classes it contains (any order, repetitions
    ///     allowed), each in `0..<classCount`.
    ///   - classCount: the number of classes `C`, at least 1.
    ///   - seed: the seed of the shuffles; the same seed gives the same sequence.
    /// - Throws: ``LovaszError/emptyInput(_:)`` when there is no sample or no sample contains
    ///   any class; ``LovaszError/invalidOption(_:)`` when `classCount < 1` or a class is out
    ///   of range (naming the sample).
    public init(presence: [[Int]], classCount: Int, seed: UInt64 = 0) throws(LovaszError) {
        guard classCount >= 1 else { throw .invalidOption("the class count is \(classCount); it must be at least 1") }
        guard !presence.isEmpty else { throw .emptyInput("equibatch needs at least one sample") }
        var classesOfSample = [[Int]]()
        classesOfSample.reserveCapacity(presence.count)
        var samplesOfClass = [[Int]](repeating: [], count: classCount)
        for (sample, classes) in presence.enumerated() {
            var seen = Set<Int>()
            var unique = [Int]()
            for c in classes {
                guard (0..<classCount).contains(c) else {
                    throw .invalidOption("sample \(sample) lists class \(c), outside 0..<\(classCount)")
                }
                if seen.insert(c).inserted {
                    unique.append(c)
                    samplesOfClass[c].append(sample)
                }
            }
            classesOfSample.append(unique)
        }
        let present = (0..<classCount).filter { !samplesOfClass[$0].isEmpty }
        guard !present.isEmpty else { throw .emptyInput("no sample contains any class") }

        self.sampleCount = presence.count
        self.classCount = classCount
        self.presentClasses = present
        self.absentClasses = (0..<classCount).filter { samplesOfClass[$0].isEmpty }
        self.classesOfSample = classesOfSample
        self.random = SplitMix64(seed: seed)
        self.queues = samplesOfClass
        self.queuePositions = [Int](repeating: 0, count: classCount)
        self.lastSeen = [Int](repeating: -1, count: classCount)
        for c in present { random.shuffle(&queues[c]) }
    }

    /// Creates a sampler from a presence table.
    ///
    /// - Parameters:
    ///   - table: `table[s][c]` is whether sample `s` contains class `c`; every row has the
    ///     same length `C ≥ 1`.
    ///   - seed: the seed of the shuffles.
    /// - Throws: as ``init(presence:classCount:seed:)``, and ``LovaszError/invalidShape(_:)``
    ///   when the rows differ in length.
    public init(table: [[Bool]], seed: UInt64 = 0) throws(LovaszError) {
        let classCount = table.first?.count ?? 0
        if let row = table.firstIndex(where: { $0.count != classCount }) {
            throw .invalidShape("row \(row) of the presence table has \(table[row].count) classes, row 0 has \(classCount)")
        }
        try self.init(
            presence: table.map { row in row.indices.filter { row[$0] } },
            classCount: classCount, seed: seed)
    }

    /// The index of the next sample. Never `nil`: the sequence is infinite.
    public mutating func next() -> Int? { nextSample() }

    /// The index of the next sample.
    public mutating func nextSample() -> Int {
        var chosen = presentClasses[0]
        for c in presentClasses where lastSeen[c] < lastSeen[chosen] { chosen = c }
        if queuePositions[chosen] == queues[chosen].count {
            random.shuffle(&queues[chosen])
            queuePositions[chosen] = 0
        }
        let sample = queues[chosen][queuePositions[chosen]]
        queuePositions[chosen] += 1
        for c in classesOfSample[sample] { lastSeen[c] = step }
        step += 1
        return sample
    }

    /// The indices of the next `size` samples (a sample may repeat within a batch when the
    /// training set is small).
    ///
    /// - Parameter size: the batch size; `0` gives an empty batch.
    /// - Precondition: `size >= 0`.
    public mutating func nextBatch(size: Int) -> [Int] {
        precondition(size >= 0, "a batch size cannot be negative")
        return (0..<size).map { _ in nextSample() }
    }
}
