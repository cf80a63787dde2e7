public import ArgumentParser
public import Lovasz

/// `--backend auto|cpu|opencl`, spelled as the library's choices.
extension BackendChoice: ExpressibleByArgument {}

/// `--loss softmax|hinge|sigmoid`, spelled as the library's losses.
extension LovaszLoss: ExpressibleByArgument {}

/// `--scores-are logits|probabilities`, spelled as the library's interpretations.
extension ScoreInterpretation: ExpressibleByArgument {}
