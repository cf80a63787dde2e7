public import ArgumentParser
public import Lovasz

/// `--backend auto|cpu|opencl`, spelled as the library's choices.
extension BackendChoice: ExpressibleByArgument {}
