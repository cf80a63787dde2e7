internal import LovaszKernels

/// The compile-time sizes and numeric options the kernels are built with for one device.
struct KernelConfiguration: Sendable, Hashable {
    /// Work-items per work-group of the sort, scan and reduction kernels (a power of two).
    let localSize: Int
    /// Keys sorted in local memory by one work-group (a power of two, at least 2·localSize).
    let localKeys: Int
    /// Elements each work-item of the scan handles sequentially.
    let scanItems: Int
    /// Keys each work-item of the radix sort ranks per tile (a power of two, 1 to 16):
    /// a radix tile is `localSize · radixItems` keys.
    let radixItems: Int
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
    var boundBlock: Int { localSize * 8 }

    /// The sizes for `device`, within its work-group and local-memory limits.
    init(device: OpenCLDevice, localSizeLimit: Int? = nil) {
        let groupLimit = min(256, device.maxWorkGroupSize, localSizeLimit ?? .max)
        self.localSize = Self.powerOfTwo(atMost: max(groupLimit, 1))
        let localKeyLimit = Int(min(device.localMemoryBytes, 1 << 20) / 8) * 2 / 3
        self.localKeys = max(2 * localSize, min(4096, Self.powerOfTwo(atMost: max(localKeyLimit, 2))))
        self.scanItems = 4
        self.radixItems = Self.radixItems(localSize: localSize, localMemoryBytes: Int(min(device.localMemoryBytes, 1 << 20)))
        self.doubleAccumulation = device.supportsDouble
        if device.correctlyRoundedDivideSqrt {
            self.division = .correctlyRoundedOption
        } else if device.supportsDouble {
            self.division = .viaDouble
        } else {
            self.division = .native
        }
    }

    /// The `clBuildProgram` options.
    var buildOptions: String {
        var options = "-DLOCAL_KEYS=\(localKeys) -DLOCAL_SIZE=\(localSize) -DSCAN_ITEMS=\(scanItems)"
        options += " -DRADIX_ITEMS=\(radixItems)"
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

    /// Keys sorted by one radix work-group.
    var radixTile: Int { localSize * radixItems }

    /// The most keys per work-item (up to 16) whose radix tile fits `localMemoryBytes`
    /// together with the counters and histograms of `Kernels/radix_sort.cl`.
    static func radixItems(localSize: Int, localMemoryBytes: Int) -> Int {
        var items = 16
        while items > 1 {
            let tile = localSize * items
            let bytes = (tile + tile / 16) * 8 + 16 * localSize * 2 + 2 * localSize * 4 + 2 * 256 * 4
            if bytes + 1024 <= localMemoryBytes { break }
            items /= 2
        }
        return items
    }

    static func powerOfTwo(atMost value: Int) -> Int {
        value <= 1 ? 1 : 1 << (Int.bitWidth - 1 - value.leadingZeroBitCount)
    }
}
