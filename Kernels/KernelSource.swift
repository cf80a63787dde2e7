/// The OpenCL C source of the Lovász kernels, embedded at build time.
public enum KernelSource {
    /// All kernels as one program source.
    public static var program: String {
        String(decoding: PackageResources.lovasz_common_cl, as: UTF8.self)
    }
}
