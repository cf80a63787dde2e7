internal import LovaszKernels

/// The compile-time sizes and numeric options the kernels are built with for one device.
struct KernelConfiguration: Sendable, Hashable {
    /// Work-items per work-group of the sort, scan and reduction kernels (a power of two).
    let localSize: Int
    /// Keys sorted in local memory by one work-group (a power of two, at least 2·localSize).
    let localKeys: Int
    /// Elements each work-item of the scan handles sequentially.
    let scanItems: Int
    /// Work-items per work-group of the radix sort (a power of two up to 256).
    private(set) var radixGroup: Int
    /// Keys each work-item of the radix sort ranks per tile (a power of two): a radix tile
    /// is `radixGroup · radixItems` keys.
    private(set) var radixItems: Int
    /// The digit width of one local counting split of the radix sort: 4 (two splits per
    /// 8-bit pass, 16 counters per work-item) or 8 (one split, 256 counters per work-item).
    private(set) var radixSplitBits: Int
    /// Gradients and loss sums in double (the device has cl_khr_fp64).
    let doubleAccumulation: Bool
    /// How correctly rounded float division is obtained.
    let division: Division

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
    var boundBlock: Int { localSize * KernelLayout.boundItems }

    /// The sizes for `device`, within its work-group and local-memory limits.
    init(device: OpenCLDevice, localSizeLimit: Int? = nil) {
        let groupLimit = min(256, device.maxWorkGroupSize, localSizeLimit ?? .max)
        self.localSize = Self.powerOfTwo(atMost: max(groupLimit, 1))
        let localKeyLimit = Int(min(device.localMemoryBytes, 1 << 20) / 8) * 2 / 3
        self.localKeys = max(2 * localSize, min(4096, Self.powerOfTwo(atMost: max(localKeyLimit, 2))))
        self.scanItems = 4
        let localBytes = Int(min(device.localMemoryBytes, 1 << 20))
        if device.kind == .cpu, localSize >= 16, Self.radixLocalBytes(group: 16, items: 256, splitBits: 8) <= localBytes {
            // A CPU runs a work-group's work-items one after another: few work-items with
            // many keys each and one 8-bit split do the least work per key.
            radixGroup = 16
            radixItems = 256
            radixSplitBits = 8
        } else {
            var items = 16
            while items > 1, Self.radixLocalBytes(group: localSize, items: items, splitBits: 4) > localBytes { items /= 2 }
            radixGroup = localSize
            radixItems = items
            radixSplitBits = 4
        }
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

    /// Keys sorted by one radix work-group.
    var radixTile: Int { radixGroup * radixItems }

    /// The local memory of the largest radix kernel (`radix_upsweep`), with a margin of 1 KiB.
    static func radixLocalBytes(group: Int, items: Int, splitBits: Int) -> Int {
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
