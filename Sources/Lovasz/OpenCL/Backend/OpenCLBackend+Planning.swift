extension OpenCLBackend {
    /// Plans on the device from `labels`, then runs the launch sequence.
    ///
    /// - Parameter scores: makes the scores ready on the device (for host arrays: stages and
    ///   enqueues their upload); called once the planning kernels are on their way, so that
    ///   the device plans while the host works.
    static func plannedRun(
        pipeline: OpenCLPipeline, shape: ProblemShape, options: LossOptions, labels: DeviceLabels, ignore: Int?,
        scores: () throws(LovaszError) -> DeviceScores, gradient: GradientDestination,
        labelText: (Int) throws(OpenCLError) -> String, scoreValue: (Int) throws(OpenCLError) -> Float
    ) throws(LovaszError) -> PlannedLoss {
        let layout = PlanLayout(shape: shape, options: options, localSize: pipeline.configuration.localSize)
        let pending = try mappingOpenCLErrors { () throws(OpenCLError) in
            try pipeline.enqueueLabelCounts(labels, layout: layout, ignore: ignore)
        }
        let deviceScores = try scores()
        let counts = try mappingOpenCLErrors { () throws(OpenCLError) in
            try pipeline.readLabelCounts(pending, layout: layout)
        }
        switch counts {
        case .badLabel(let flat):
            let text = try mappingOpenCLErrors { () throws(OpenCLError) in try labelText(flat) }
            throw .labelOutOfRange(position: shape.labelPosition(flat), label: text, classes: layout.labelClasses)
        case .counts(let groupCounts, let hasIgnored):
            let plan = try SegmentPlan(
                shape: shape, groupCounts: groupCounts, labelClasses: layout.labelClasses, hasIgnored: hasIgnored,
                options: options, validPixels: nil)
            let outcome = try mappingOpenCLErrors { () throws(OpenCLError) -> OpenCLOutcome in
                let validPixels = try pipeline.listValidPixels(layout: layout, plan: plan)
                let classOf = try pipeline.buffers.buffer(.classOf, bytes: shape.pixelCount * 4)
                let inputs = LaunchInputs(
                    shape: shape, options: options, plan: plan, scores: deviceScores, classOf: classOf, validPixels: validPixels)
                return try pipeline.launch(inputs, gradient: gradient)
            }
            if let bad = outcome.firstBadScore {
                let value = try mappingOpenCLErrors { () throws(OpenCLError) in try scoreValue(bad) }
                guard value.isFinite else { throw .nonFiniteScore(position: shape.scorePosition(bad), value: value) }
                throw .probabilityOutOfRange(position: shape.scorePosition(bad), value: value)
            }
            return PlannedLoss(loss: outcome.loss, plan: plan)
        }
    }
}
