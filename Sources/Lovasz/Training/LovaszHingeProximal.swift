/// The proximal operator of the Lovász hinge with respect to the margins (Berman et al.,
/// CVPR 2018, Appendix C).
///
/// With `f(m) = Δ̄_J(max(m, 0))`, the Lovász hinge of a vector of margins (the Lovász
/// extension of the Jaccard loss of the foreground, evaluated at the positive parts), this
/// returns the unique solution of
///
///     argmin_u  f(u) + λ/2 · ‖u − x‖²
///
/// for the margins `x`. The objective is `λ`-strongly convex, so the solution exists and is
/// unique; a proximal step `u = prox(x)` never increases the Lovász hinge and moves each
/// margin down by at most `1/λ`.
///
/// Method (exact, not iterative): margins `x_i ≤ 0` are returned unchanged, because the
/// hinge does not depend on them and they stay below every positive level. On the positive
/// margins, the level sets `{u ≥ α}` (`α > 0`) of the solution are minimisers of the
/// submodular function `Δ_J(A) − λ·Σ_{i∈A} (x_i − α)` (Bach 2013, Prop. 8.3), and the
/// problem is solved by the decomposition algorithm: propose a common value for a block,
/// find a minimiser of that function, and split the block into the elements above and below
/// it until no split lowers the objective. The Jaccard loss depends only on how many
/// foreground and background pixels a set holds, and the solution preserves the order of
/// the margins within the foreground and within the background, so each minimisation is a
/// scan over the sorted margins: `O(p² log p)` in the worst case, usually far less.
///
/// - Parameters:
///   - margins: the margins `x_i = 1 − F_i·(2y_i − 1)`, finite, any length (empty → empty).
///   - foreground: whether pixel `i` is foreground (`y_i = 1`); same length as `margins`.
///   - lambda: the weight `λ` of the quadratic term, finite and `> 0`. Larger values keep
///     the result closer to `margins`.
/// - Returns: the minimiser `u`, one value per margin, accurate to rounding in Double.
/// - Throws: ``LovaszError/invalidShape(_:)`` when the lengths differ,
///   ``LovaszError/invalidOption(_:)`` for `λ ≤ 0` or non-finite `λ`,
///   ``LovaszError/nonFiniteScore(position:value:)`` for the first non-finite margin.
public func lovaszHingeProximal(
    margins: [Double], foreground: [Bool], lambda: Double
) throws(LovaszError) -> [Double] {
    guard margins.count == foreground.count else {
        throw .invalidShape("\(margins.count) margins for \(foreground.count) foreground flags")
    }
    guard lambda.isFinite, lambda > 0 else {
        throw .invalidOption("the proximal weight λ is \(lambda); it must be finite and positive")
    }
    if let bad = margins.firstIndex(where: { !$0.isFinite }) {
        throw .nonFiniteScore(position: [bad], value: Float(margins[bad]))
    }
    return HingeProximalSolver(margins: margins, foreground: foreground, lambda: lambda).solve()
}

/// The proximal operator of the Lovász hinge with respect to the logits.
///
/// The margins `m_i = 1 − F_i·(2y_i − 1)` are an isometry of the logits `F`, so
/// `argmin_G  f(m(G)) + λ/2 · ‖G − F‖²` is `G_i = (1 − u_i)·(2y_i − 1)` with `u` the
/// proximal point of the margins (``lovaszHingeProximal(margins:foreground:lambda:)``).
/// This is the implicit (proximal) counterpart of a gradient step of size `1/λ` on the
/// logits.
///
/// - Parameters:
///   - logits: the scores `F_i`, finite.
///   - labels: `y_i ∈ {0, 1}` per pixel; same length as `logits`.
///   - lambda: the weight `λ`, finite and `> 0`.
/// - Returns: the proximal logits.
/// - Throws: as ``lovaszHingeProximal(margins:foreground:lambda:)``, and
///   ``LovaszError/labelOutOfRange(position:label:classes:)`` for a label other than 0 or 1.
public func lovaszHingeProximal<Label: FixedWidthInteger>(
    logits: [Double], labels: [Label], lambda: Double
) throws(LovaszError) -> [Double] {
    guard logits.count == labels.count else {
        throw .invalidShape("\(logits.count) logits for \(labels.count) labels")
    }
    if let bad = labels.firstIndex(where: { $0 != 0 && $0 != 1 }) {
        throw .labelOutOfRange(position: [bad], label: String(labels[bad]), classes: 2)
    }
    let signs = labels.map { $0 == 1 ? 1.0 : -1.0 }
    let margins = zip(logits, signs).map { 1 - $0 * $1 }
    let solution = try lovaszHingeProximal(margins: margins, foreground: labels.map { $0 == 1 }, lambda: lambda)
    return zip(solution, signs).map { (1 - $0) * $1 }
}

/// The decomposition algorithm of ``lovaszHingeProximal(margins:foreground:lambda:)``.
struct HingeProximalSolver {
    let margins: [Double]
    let lambda: Double
    /// The number of foreground pixels of the whole vector (the `|y = 1|` of the Jaccard loss).
    let foregroundTotal: Int
    /// Positive foreground and background margins, each sorted by decreasing margin.
    let foregroundOrder: [Int]
    let backgroundOrder: [Int]

    /// A block of the decomposition: slices of the two sorted lists, and how many foreground
    /// and background pixels rank above it (the contraction of the Jaccard loss).
    struct Block {
        var foreground: Range<Int>
        var background: Range<Int>
        var foregroundAbove: Int
        var backgroundAbove: Int
    }

    init(margins: [Double], foreground: [Bool], lambda: Double) {
        self.margins = margins
        self.lambda = lambda
        self.foregroundTotal = foreground.reduce(0) { $0 + ($1 ? 1 : 0) }
        let decreasing: (Int, Int) -> Bool = { margins[$0] != margins[$1] ? margins[$0] > margins[$1] : $0 < $1 }
        let positive = margins.indices.filter { margins[$0] > 0 }
        self.foregroundOrder = positive.filter { foreground[$0] }.sorted(by: decreasing)
        self.backgroundOrder = positive.filter { !foreground[$0] }.sorted(by: decreasing)
    }

    /// The Jaccard loss of a set holding `a` foreground and `b` background pixels:
    /// `(a + b) / (|y = 1| + b)`, and 0 for the empty set.
    func jaccardLoss(foreground a: Int, background b: Int) -> Double {
        a + b == 0 ? 0 : Double(a + b) / Double(foregroundTotal + b)
    }

    func solve() -> [Double] {
        var solution = margins
        var pending = [Block(
            foreground: 0..<foregroundOrder.count, background: 0..<backgroundOrder.count,
            foregroundAbove: 0, backgroundAbove: 0)]
        while let block = pending.popLast() {
            let (level, split) = examine(block)
            if let (upper, lower) = split {
                pending.append(upper)
                pending.append(lower)
            } else {
                for i in foregroundOrder[block.foreground] { solution[i] = max(level, 0) }
                for i in backgroundOrder[block.background] { solution[i] = max(level, 0) }
            }
        }
        return solution
    }

    /// The common level of a block, and the split of the block when a strict subset of it
    /// (its top `a` foreground and top `b` background margins) lowers
    /// `G(A) − λ·Σ_{i∈A}(x_i − level)`, with `G` the Jaccard loss contracted by what ranks
    /// above the block.
    func examine(_ block: Block) -> (level: Double, split: (Block, Block)?) {
        let fg = Array(foregroundOrder[block.foreground].map { margins[$0] })
        let bg = Array(backgroundOrder[block.background].map { margins[$0] })
        let a0 = block.foregroundAbove, b0 = block.backgroundAbove
        let base = jaccardLoss(foreground: a0, background: b0)
        let whole = jaccardLoss(foreground: a0 + fg.count, background: b0 + bg.count) - base
        let count = Double(fg.count + bg.count)
        let sum = fg.reduce(0, +) + bg.reduce(0, +)
        let level = (lambda * sum - whole) / (lambda * count)

        // Prefix sums of λ·(x − level) in decreasing order, for each list.
        var fgGain = [0.0], bgGain = [0.0]
        for x in fg { fgGain.append(fgGain.last! + lambda * (x - level)) }
        for x in bg { bgGain.append(bgGain.last! + lambda * (x - level)) }

        var best = 0.0, bestA = 0, bestB = 0
        for b in 0...bg.count {
            // For a fixed b the contracted loss grows by 1/(|y=1| + b0 + b) per foreground
            // pixel, so the best a takes every foreground pixel whose gain exceeds that.
            let denominator = Double(foregroundTotal + b0 + b)
            let threshold = denominator > 0 ? 1 / denominator : .infinity
            var low = 0, high = fg.count
            while low < high {
                let mid = (low + high) / 2
                if lambda * (fg[mid] - level) > threshold { low = mid + 1 } else { high = mid }
            }
            let a = low
            let value = jaccardLoss(foreground: a0 + a, background: b0 + b) - base - fgGain[a] - bgGain[b]
            if value < best { best = value; bestA = a; bestB = b }
        }
        let scale = 1 + abs(whole) + lambda * (fg.reduce(0) { $0 + abs($1) } + bg.reduce(0) { $0 + abs($1) })
        let trivial = (bestA == 0 && bestB == 0) || (bestA == fg.count && bestB == bg.count)
        guard best < -1e-13 * scale, !trivial else { return (level, nil) }
        let upper = Block(
            foreground: block.foreground.lowerBound ..< block.foreground.lowerBound + bestA,
            background: block.background.lowerBound ..< block.background.lowerBound + bestB,
            foregroundAbove: a0, backgroundAbove: b0)
        let lower = Block(
            foreground: block.foreground.lowerBound + bestA ..< block.foreground.upperBound,
            background: block.background.lowerBound + bestB ..< block.background.upperBound,
            foregroundAbove: a0 + bestA, backgroundAbove: b0 + bestB)
        return (level, (upper, lower))
    }
}
