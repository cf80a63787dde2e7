/// The OpenCL C sources of the Lovász kernels, embedded into the binary at build time.
public enum KernelSource {
    /// The kernel files in the order they are concatenated into one program.
    public static let files: [(name: String, bytes: [UInt8])] = [
        ("lovasz_common.cl", PackageResources.lovasz_common_cl),
        ("lovasz_scores.cl", PackageResources.lovasz_scores_cl),
        ("lovasz_keys.cl", PackageResources.lovasz_keys_cl),
        ("bitonic_sort.cl", PackageResources.bitonic_sort_cl),
        ("radix_sort.cl", PackageResources.radix_sort_cl),
        ("radix_scatter.cl", PackageResources.radix_scatter_cl),
        ("segmented_scan.cl", PackageResources.segmented_scan_cl),
        ("lovasz_gradient.cl", PackageResources.lovasz_gradient_cl),
        ("backprop.cl", PackageResources.backprop_cl),
        ("lovasz_plan.cl", PackageResources.lovasz_plan_cl),
    ]

    /// All kernels as one program source.
    public static var program: String {
        files.map { "// ---- \($0.name)\n" + String(decoding: $0.bytes, as: UTF8.self) }.joined(separator: "\n")
    }
}
