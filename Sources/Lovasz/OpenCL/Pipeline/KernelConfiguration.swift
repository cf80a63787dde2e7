#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
internal import LovaszKernels

/// The compile-time sizes and numeric options the kernels are built with for one device.
struct KernelConfiguration: Sendable, Hashable {
    /// Work-items per work-group of the sort, scan and reduction kernels (a power of two).
    let localSize: Int
    /// Keys sorted in local memory by one work-group (a power of two, at least 2·localSize).
    let localKeys: Int
    /// Elements each work-item of the scan handles sequentially.
    let scanItems: Int
    /// Ranks each work-item of the cut and compaction kernels visits (`BOUND_ITEMS`, a
    /// multiple of ``vectorLanes``).
    let boundItems: Int
    /// Pixels each work-item of the softmax handles: 1, or 8 as vectors (`VECTOR_LANES`).
    let vectorLanes: Int
    /// Work-items per work-group of the radix sort (a power of two up to 256).
    private(set) var radixGroup: Int
    /// Keys each work-item of the radix sort ranks per tile (a power of two): a radix tile
    /// is `radixGroup · radixItems` keys.
    private(set) var radixItems: Int
    /// The digit width of one local counting split of the radix sort: 4 (two splits per
    /// 8-bit pass, 16 counters per work-item) or 8 (one split, 256 counters per work-item).
    private(set) var radixSplitBits: Int
    /// Which radix kernel sorts each tile in local memory (work-groups of more than one
    /// work-item only; one work-item per tile never sorts locally).
    private(set) var radixRanking: RadixRanking
    /// Gradients and loss sums in double (the device has cl_khr_fp64).
    let doubleAccumulation: Bool
    /// How correctly rounded float division is obtained.
    let division: Division

    /// Where the radix sort of a GPU's layout ranks each tile's keys by the pass's digit.
    enum RadixRanking: String, Sendable, Hashable, CaseIterable {
        /// The upsweep sorts the tile, writes it back and counts its digits; the downsweep
        /// reads the sorted tile and scatters it (four crossings of global memory a pass).
        case upsweep
        /// The upsweep only counts the digits (local atomics into eight histograms); the
        /// downsweep sorts the tile and scatters it (three crossings: CUB's and GPUSorting's layout).
        case downsweep

        /// The environment variable that picks the ranking of a GPU's layout, for benchmarks
        /// (`upsweep`, the default, or `downsweep`).
        static let overrideVariable = "LOVASZ_RADIX_RANKING"

        /// The ranking that `LOVASZ_RADIX_RANKING` names, or `upsweep` when unset or unknown.
        static var fromEnvironment: RadixRanking {
            guard let value = getenv(overrideVariable) else { return .upsweep }
            return RadixRanking(rawValue: String(cString: value)) ?? .upsweep
        }
    }

    enum Division: Sendable, Hashable {
        /// `-cl-fp32-correctly-rounded-divide-sqrt`.
        case correctlyRoundedOption
        /// The quotient of doubles rounded to float (equal to the correctly rounded one).
        case viaDouble
        /// The device's float division (up to 2.5 ulp): errors may differ from the CPU path's
        /// by an ulp, so near-ties may sort differently there.
        case native
    }

    /// Keys scanned by one work-group.
    var scanTile: Int { localSize * scanItems }

    /// Ranks one work-group of the cut and compaction kernels covers (`BOUND_BLOCK`).
    var boundBlock: Int { localSize * boundItems }

    /// The sizes for `device`, within its work-group and local-memory limits.
    ///
    /// - Parameter formsFor: the kind of device whose kernel forms to take (by default
    ///   `device`'s own): tests run a GPU's forms on PoCL's CPU device.
    init(device: OpenCLDevice, localSizeLimit: Int? = nil, formsFor kind: OpenCLDeviceKind? = nil) {
        let cpu = (kind ?? device.kind) == .cpu
        // A CPU runs a work-group's work-items one after another, each barrier ending a loop
        // over them: smaller groups pay fewer of those loops per key (64 rather than 256
        // work-items, PoCL 3.1, VOC per batch trained: the call's device time 0.83-0.86x).
        let groupLimit = min(cpu ? 64 : 256, device.maxWorkGroupSize, localSizeLimit ?? .max)
        self.localSize = Self.powerOfTwo(atMost: max(groupLimit, 1))
        let localKeyLimit = Int(min(device.localMemoryBytes, 1 << 20) / 8) * 2 / 3
        self.localKeys = max(2 * localSize, min(4096, Self.powerOfTwo(atMost: max(localKeyLimit, 2))))
        // A CPU also vectorizes only code without loops of its own: longer sequential
        // scans (a scan tile of at most the bitonic sort's local keys, so no more padding),
        // eight pixels or ranks per work-item as explicit vectors (softmax, keys,
        // back-propagation), 64 ranks per work-item of the cut and compaction kernels (their
        // group scans and reductions amortized), and one work-item per radix tile, counted and
        // scattered in key order with no local ranking at all. Measured on PoCL 3.1 (2-core
        // AMD EPYC, VOC per batch, trained): the scan 70 -> 36 ms, the radix sort 416 -> 143-164
        // ms, the softmax 139 -> 35 ms, the cuts and compaction 270 -> 160 ms.
        self.scanItems = cpu ? max(4, min(16, localKeys / localSize)) : 4
        self.vectorLanes = cpu ? 8 : 1
        self.boundItems = cpu ? 64 : 8
        let localBytes = Int(min(device.localMemoryBytes, 1 << 20))
        if cpu, Self.radixLocalBytes(group: 1, items: 4096, splitBits: 8) <= localBytes {
            radixGroup = 1
            radixItems = 4096
            radixSplitBits = 8
        } else {
            var items = 16
            while items > 1, Self.radixLocalBytes(group: localSize, items: items, splitBits: 4) > localBytes { items /= 2 }
            radixGroup = localSize
            radixItems = items
            radixSplitBits = 4
        }
        radixRanking = RadixRanking.fromEnvironment
        self.doubleAccumulation = device.supportsDouble
        if device.correctlyRoundedDivideSqrt {
            self.division = .correctlyRoundedOption
        } else if device.supportsDouble {
            self.division = .viaDouble
        } else {
            self.division = .native
        }
    }

    /// The `clBuildProgram` options: these sizes and ``KernelLayout``.
    var buildOptions: String {
        var options = "-DLOCAL_KEYS=\(localKeys) -DLOCAL_SIZE=\(localSize) -DSCAN_ITEMS=\(scanItems) "
        options += "-DRADIX_GROUP=\(radixGroup) -DRADIX_ITEMS=\(radixItems) -DRADIX_SPLIT_BITS=\(radixSplitBits) "
        options += "-DRADIX_RANK_IN_DOWNSWEEP=\(radixRanking == .downsweep ? 1 : 0) "
        options += "-DVECTOR_LANES=\(vectorLanes) -DBOUND_ITEMS=\(boundItems) "
        options += KernelLayout.buildOptions
        if doubleAccumulation { options += " -DLOVASZ_FP64" }
        switch division {
        case .correctlyRoundedOption: options += " -cl-fp32-correctly-rounded-divide-sqrt"
        case .viaDouble: options += " -DLOVASZ_DIVIDE_VIA_DOUBLE"
        case .native: break
        }
        return options
    }

    /// The program source: every `Kernels/*.cl` file, embedded at build time.
    static var source: String { KernelSource.program }

    /// This configuration with another radix sort layout (tests run each layout on any device).
    func radixLayout(group: Int, items: Int, splitBits: Int) -> KernelConfiguration {
        var copy = self
        copy.radixGroup = group
        copy.radixItems = items
        copy.radixSplitBits = splitBits
        return copy
    }

    /// This configuration with the radix sort ranking its tiles in `ranking`'s kernel.
    func radixRanking(_ ranking: RadixRanking) -> KernelConfiguration {
        var copy = self
        copy.radixRanking = ranking
        return copy
    }

    /// Keys sorted by one radix work-group.
    var radixTile: Int { radixGroup * radixItems }

    /// The local memory of the largest radix kernel (the one that ranks the tile; `radix_scan`
    /// with one work-item per tile, whose tile is never held in local memory), with a margin of 1 KiB.
    static func radixLocalBytes(group: Int, items: Int, splitBits: Int) -> Int {
        if group == 1 { return 2 * 256 * 4 + 4 + 1024 }
        let tile = group * items
        return (tile + tile / 16) * 8 + (1 << splitBits) * group * 2 + group * 4 + 2 * 256 * 4 + 1024
    }

    /// The largest power of two at most `value` (1 for `value` ≤ 1).
    static func powerOfTwo(atMost value: Int) -> Int {
        value <= 1 ? 1 : 1 << (Int.bitWidth - 1 - value.leadingZeroBitCount)
    }

    /// `value` rounded up to a multiple of `multiple` (> 0).
    static func roundUp(_ value: Int, to multiple: Int) -> Int {
        (value + multiple - 1) / multiple * multiple
    }
}
